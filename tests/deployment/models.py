"""The models every deployment path is tested on: for each public class, a
masked, stacked stack (`go_backwards`, `return_sequences`, `return_state`) and
a masked `Bidirectional`, with random weights and their Keras outputs."""

import numpy as np

from tensorflow_lnrnn.utils.compat import keras
from tensorflow_lnrnn.utils.test_utils import randomize_weights
from tests.cell_cases import CELL_CASES

TIME, INPUT_DIM, UNITS = 5, 4, 6
ARCHITECTURES = ("stack", "bidirectional")


def inputs(batch, seed=0):
    """Inputs with trailing steps masked (zeros) in every other sequence."""
    x = np.random.default_rng(seed).normal(size=(batch, TIME, INPUT_DIM)).astype("float32")
    x[1::2, 3:] = 0.0
    return x


def build(case, kind, architecture, batch_size=None, **rnn_kwargs):
    """A functional model over (batch, TIME, INPUT_DIM) inputs."""

    def recurrent(**kwargs):
        return case.make_sequence_layer(kind, UNITS, **kwargs, **rnn_kwargs)

    x = keras.Input(batch_shape=(batch_size, TIME, INPUT_DIM))
    h = keras.layers.Masking()(x)
    if architecture == "stack":
        h = recurrent(return_sequences=True, go_backwards=True)(h)
        outputs = recurrent(return_state=True)(h)
    else:
        outputs = keras.layers.Bidirectional(recurrent(return_sequences=True))(h)
    model = keras.Model(x, outputs)
    randomize_weights(model, scale=0.3)
    return model


def keras_outputs(model, x):
    outputs = model.predict(x, verbose=0)
    return [np.asarray(o) for o in (outputs if isinstance(outputs, (list, tuple)) else [outputs])]


def model_params():
    import pytest

    return [
        pytest.param(case, kind, architecture, id=f"{case.id}-{kind}-{architecture}")
        for case in CELL_CASES
        for kind in ("cell", "layer")
        for architecture in ARCHITECTURES
    ]
