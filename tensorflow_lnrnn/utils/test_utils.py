"""Helpers shared by the test suites of every cell."""

import numpy as np

from tensorflow_lnrnn.utils.compat import IS_KERAS_3, keras, weight_path


def randomize_weights(layer, seed=0, scale=0.5):
    """Sets every weight of a built layer to N(0, scale), so that gains, shifts
    and biases all matter in a comparison. Returns the new weights."""
    rng = np.random.default_rng(seed)
    weights = [rng.normal(scale=scale, size=w.shape).astype("float32") for w in layer.get_weights()]
    layer.set_weights(weights)
    return weights


def rnn_model(cell, input_shape, **rnn_kwargs):
    """A functional model ``Input(input_shape) -> RNN(cell, **rnn_kwargs)``."""
    inputs = keras.Input(shape=input_shape)
    outputs = keras.layers.RNN(cell, **rnn_kwargs)(inputs)
    return keras.Model(inputs, outputs)


def to_numpy(x):
    """A tensor of any backend (or a variable) as a NumPy array."""
    return keras.ops.convert_to_numpy(x) if IS_KERAS_3 else np.asarray(x)


def to_tensor(x):
    """A NumPy array as a tensor of the current backend (Keras 2: TensorFlow)."""
    if IS_KERAS_3:
        return keras.ops.convert_to_tensor(x)
    import tensorflow as tf

    return tf.convert_to_tensor(x)


def as_list(outputs):
    return [to_numpy(o) for o in (outputs if isinstance(outputs, (list, tuple)) else [outputs])]


def assert_all_equal(actual, expected, atol=0.0):
    """Compares (nested lists of) arrays; exact when ``atol`` is 0."""
    actual, expected = as_list(actual), as_list(expected)
    assert len(actual) == len(expected)
    for a, e in zip(actual, expected):
        if atol:
            np.testing.assert_allclose(a, e, atol=atol, rtol=0)
        else:
            np.testing.assert_array_equal(a, e)


def weight_names(layer):
    """Names of a layer's weights relative to the layer: "kernel", "kernel_norm/gamma"."""
    names = []
    for variable in layer.weights:
        path = weight_path(variable)
        prefix = layer.name + "/"
        names.append(path[path.rindex(prefix) + len(prefix) :] if prefix in path else path)
    return names
