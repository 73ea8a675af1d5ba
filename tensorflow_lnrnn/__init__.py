"""Layer-normalized recurrent networks for Keras.

Importing the package registers every public class with Keras under the
package name ``LNRNN``, so ``keras.models.load_model`` needs no
``custom_objects``.
"""

from tensorflow_lnrnn import activations, migrate, rnn
from tensorflow_lnrnn.rnn import (
    LayerNormGRU,
    LayerNormGRUCell,
    LayerNormLSTM,
    LayerNormLSTMCell,
    LayerNormSimpleRNN,
    LayerNormSimpleRNNCell,
)
from tensorflow_lnrnn.version import __version__

migrate.register_addons_names()

__all__ = [
    "LayerNormGRU",
    "LayerNormGRUCell",
    "LayerNormLSTM",
    "LayerNormLSTMCell",
    "LayerNormSimpleRNN",
    "LayerNormSimpleRNNCell",
    "activations",
    "migrate",
    "rnn",
    "__version__",
]
