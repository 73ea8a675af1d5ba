"""Save models built with TensorFlow Addons' cells, in every Keras 2 format.

Run in the Addons reference environment (see make_addons_fixtures.py), with
tensorflow_lnrnn installed there too (`pip install -e .`):

    /tmp/tfa-env/bin/python scripts/make_addons_saved_models.py

The same models are saved twice: built with Addons' cells (under
``tests/fixtures/addons_saved/``) and, as a user who switched imports on TF 2.15
would, with ours (under ``tests/fixtures/lnrnn_keras2_saved/``). For each model
it writes, under ``<that folder>/<name>/``:
``model.h5``, ``model.keras``, ``saved_model/`` (``model.save`` to a
directory: Keras 2's TF SavedModel), ``inputs.npy`` and ``expected.npy`` (the
predictions on TF 2.15). The migration tests load each on the current Keras and
compare predictions.
"""

import os
import shutil
import warnings

import numpy as np
import tensorflow as tf

warnings.simplefilter("ignore")
import tensorflow_addons  # noqa: E402

import tensorflow_lnrnn  # noqa: E402

keras = tf.keras
FIXTURES = os.path.join(os.path.dirname(__file__), "..", "tests", "fixtures")
CELL_SOURCES = {"addons_saved": tensorflow_addons.rnn, "lnrnn_keras2_saved": tensorflow_lnrnn}
tfa = None  # the module whose cells the model builders use; set in main()
TIME, INPUT_DIM = 5, 3


def lstm_masked():
    """Defaults, behind a Masking layer."""
    inputs = keras.Input((TIME, INPUT_DIM))
    x = keras.layers.Masking(0.0)(inputs)
    x = keras.layers.RNN(tfa.rnn.LayerNormLSTMCell(4))(x)
    return keras.Model(inputs, keras.layers.Dense(2)(x))


def changed_activations():
    """Activations whose definitions changed in Keras 3 (hard_sigmoid, gelu),
    an LSTM with state, and a SimpleRNN in Bidirectional."""
    inputs = keras.Input((TIME, INPUT_DIM))
    cell = tfa.rnn.LayerNormLSTMCell(4, activation="gelu", recurrent_activation="hard_sigmoid", norm_epsilon=1e-2)
    x, h, c = keras.layers.RNN(cell, return_sequences=True, return_state=True)(inputs)
    simple = tfa.rnn.LayerNormSimpleRNNCell(3, activation="hard_sigmoid", use_bias=False)
    y = keras.layers.Bidirectional(keras.layers.RNN(simple))(x)
    return keras.Model(inputs, [y, h, c])


def simple_rnn_stack():
    """Two SimpleRNN cells, StackedRNNCells, go_backwards, non-default epsilon."""
    inputs = keras.Input((TIME, INPUT_DIM))
    cells = [
        tfa.rnn.LayerNormSimpleRNNCell(4, activation="selu", layernorm_epsilon=1e-3),
        tfa.rnn.LayerNormSimpleRNNCell(2, activation="gelu"),
    ]
    x = keras.layers.RNN(keras.layers.StackedRNNCells(cells), go_backwards=True)(inputs)
    return keras.Model(inputs, x)


MODELS = {"lstm_masked": lstm_masked, "changed_activations": changed_activations, "simple_rnn_stack": simple_rnn_stack}


class _Cells:
    def __init__(self, module):
        self.rnn = module


def main():
    global tfa
    for folder, module in CELL_SOURCES.items():
        tfa = _Cells(module)
        save_all(os.path.join(FIXTURES, folder))


def save_all(out_dir):
    tf.keras.utils.set_random_seed(2016)
    rng = np.random.default_rng(1607)
    for name, build in MODELS.items():
        out = os.path.join(out_dir, name)
        shutil.rmtree(out, ignore_errors=True)
        os.makedirs(out)
        model = build()
        model.set_weights([rng.normal(scale=0.5, size=w.shape).astype("float32") for w in model.get_weights()])
        inputs = rng.normal(size=(4, TIME, INPUT_DIM)).astype("float32")
        inputs[0, -2:] = 0.0  # padding, for the masked model
        expected = model.predict(inputs, verbose=0)
        expected = expected if isinstance(expected, list) else [expected]
        model.save(os.path.join(out, "model.h5"))
        model.save(os.path.join(out, "model.keras"))
        model.save(os.path.join(out, "saved_model"), save_format="tf")
        np.save(os.path.join(out, "inputs.npy"), inputs)
        np.savez(os.path.join(out, "expected.npz"), *expected)
        print(f"wrote {out}: outputs {[e.shape for e in expected]}")


if __name__ == "__main__":
    main()
