"""Live parity with TensorFlow Addons, in one process (TF <= 2.15, where Addons imports).

For random configurations, our cells given Addons' weights produce Addons'
outputs, final states and gradients to 1e-5. Skipped where Addons is not
installed or cannot be imported (TF >= 2.16); CI runs it on TF 2.15.1.
"""

import warnings

import numpy as np
import pytest
import tensorflow as tf
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import tensorflow_lnrnn as lnrnn
from tensorflow_lnrnn.utils.compat import keras
from tensorflow_lnrnn.utils.test_utils import randomize_weights
from tests.strategies import epsilons, optional_masks

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    try:
        import tensorflow_addons as tfa
    except Exception as error:  # ImportError, or Addons' own failure on Keras 3
        pytest.skip(f"tensorflow_addons cannot be imported here: {error}", allow_module_level=True)

# Keras 2 activations, including those whose definition changed in Keras 3.
ACTIVATIONS = ["tanh", "sigmoid", "relu", "hard_sigmoid", "elu", "selu", "softsign", "linear", "gelu", "swish"]
INITIALIZERS = ["glorot_uniform", "he_normal", "random_normal", "ones", "orthogonal", "zeros"]
VECTOR_INITIALIZERS = ["ones", "zeros", "random_normal", "random_uniform"]  # for 1-D gains


@st.composite
def configurations(draw):
    family = draw(st.sampled_from(["LayerNormLSTMCell", "LayerNormSimpleRNNCell"]))
    kwargs = {
        "units": draw(st.integers(1, 6)),
        "activation": draw(st.sampled_from(ACTIVATIONS)),
        "use_bias": draw(st.booleans()),
        "kernel_initializer": draw(st.sampled_from(INITIALIZERS)),
    }
    if family == "LayerNormLSTMCell":
        kwargs["recurrent_activation"] = draw(st.sampled_from(ACTIVATIONS))
        kwargs["norm_epsilon"] = draw(epsilons(kwargs["units"]))
        kwargs["norm_gamma_initializer"] = draw(st.sampled_from(VECTOR_INITIALIZERS))
        kwargs["unit_forget_bias"] = draw(st.booleans())
    else:
        kwargs["layernorm_epsilon"] = draw(epsilons(kwargs["units"]))
        kwargs["gamma_initializer"] = draw(st.sampled_from(VECTOR_INITIALIZERS))
    batch, time, input_dim = draw(st.integers(1, 3)), draw(st.integers(1, 5)), draw(st.integers(1, 4))
    mask = draw(optional_masks(batch, time))
    return {
        "family": family,
        "kwargs": kwargs,
        "shape": (batch, time, input_dim),
        "mask": mask,
        "go_backwards": draw(st.booleans()),
        "randomize": draw(st.booleans()),
        "seed": draw(st.integers(0, 2**16)),
    }


def outputs_and_gradients(layer, inputs, mask, cotangents):
    inputs = tf.constant(inputs)
    with tf.GradientTape() as tape:
        tape.watch(inputs)
        outputs = layer(inputs, mask=mask)
        loss = sum(tf.reduce_sum(o * c) for o, c in zip(outputs, cotangents))
    gradients = tape.gradient(loss, [inputs] + layer.trainable_weights)
    return [o.numpy() for o in outputs], [g.numpy() for g in gradients]


# derandomize: the same examples on every run, so CI cannot flake on a new draw.
@settings(max_examples=40, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(config=configurations())
def test_outputs_and_gradients_match_addons(config):
    rng = np.random.default_rng(config["seed"])
    inputs = rng.normal(size=config["shape"]).astype("float32")
    mask = None if config["mask"] is None else tf.constant(config["mask"])
    layers = []
    for cell_class in (getattr(tfa.rnn, config["family"]), getattr(lnrnn, config["family"])):
        layer = keras.layers.RNN(
            cell_class(**config["kwargs"]),
            return_sequences=True,
            return_state=True,
            go_backwards=config["go_backwards"],
        )
        layer.build((None, None, config["shape"][-1]))
        layers.append(layer)
    theirs, ours = layers
    if config["randomize"]:
        randomize_weights(theirs.cell, seed=config["seed"])
    ours.cell.set_weights(theirs.cell.get_weights())  # unchanged
    assert [w.shape for w in ours.cell.weights] == [w.shape for w in theirs.cell.weights]

    probe = theirs(inputs, mask=mask)
    cotangents = [rng.normal(size=o.shape).astype("float32") for o in probe]
    their_outputs, their_gradients = outputs_and_gradients(theirs, inputs, mask, cotangents)
    our_outputs, our_gradients = outputs_and_gradients(ours, inputs, mask, cotangents)
    for a, b in zip(our_outputs, their_outputs):
        np.testing.assert_allclose(a, b, atol=1e-5, rtol=1e-5)
    assert len(our_gradients) == len(their_gradients)
    for a, b in zip(our_gradients, their_gradients):
        np.testing.assert_allclose(a, b, atol=1e-5, rtol=1e-5)
