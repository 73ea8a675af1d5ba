"""Run in an environment with Keras 3 and JAX (or torch) and no TensorFlow: every
cell and layer imports, runs (masks, dropout in training), saves and reloads.

    KERAS_BACKEND=jax python scripts/smoke_without_tensorflow.py
"""

import importlib.util
import os
import sys
import tempfile

import numpy as np

assert importlib.util.find_spec("tensorflow") is None, "this check is for environments without TensorFlow"

import keras  # noqa: E402

import tensorflow_lnrnn as lnrnn  # noqa: E402

assert "tensorflow" not in sys.modules
x = np.random.default_rng(0).normal(size=(2, 5, 3)).astype("float32")
mask = np.array([[True] * 5, [False, True, True, True, False]])
for cell_class, layer_class in (
    (lnrnn.LayerNormLSTMCell, lnrnn.LayerNormLSTM),
    (lnrnn.LayerNormGRUCell, lnrnn.LayerNormGRU),
    (lnrnn.LayerNormSimpleRNNCell, lnrnn.LayerNormSimpleRNN),
):
    inputs = keras.Input((5, 3))
    a = keras.layers.RNN(cell_class(4, dropout=0.1), return_sequences=True)(inputs)
    b = layer_class(4, go_backwards=True, recurrent_dropout=0.1)(a)
    model = keras.Model(inputs, b)
    expected = keras.ops.convert_to_numpy(model(x))
    model(x, training=True)
    assert np.all(np.isfinite(keras.ops.convert_to_numpy(layer_class(4)(x, mask=mask))))
    path = os.path.join(tempfile.mkdtemp(), "model.keras")
    model.save(path)
    restored = keras.models.load_model(path)
    np.testing.assert_allclose(keras.ops.convert_to_numpy(restored(x)), expected, atol=1e-6)
    print(f"{cell_class.__name__} and {layer_class.__name__} on {keras.backend.backend()}: OK")
assert "tensorflow" not in sys.modules, "something imported TensorFlow"
print("no TensorFlow imported: OK")
