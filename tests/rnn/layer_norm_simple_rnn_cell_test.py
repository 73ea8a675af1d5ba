"""LayerNormSimpleRNNCell's own contract: Addons' signature, weights, config."""

import inspect

import numpy as np

from tensorflow_lnrnn import LayerNormSimpleRNNCell
from tensorflow_lnrnn.utils.test_utils import to_numpy, weight_names

# Addons 0.23's signature, read off tensorflow_addons/rnn/layer_norm_simple_rnn_cell.py.
ADDONS_DEFAULTS = {
    "activation": "tanh",
    "use_bias": True,
    "layernorm_epsilon": 1e-05,
    "kernel_initializer": "glorot_uniform",
    "recurrent_initializer": "orthogonal",
    "bias_initializer": "zeros",
    "gamma_initializer": "ones",
    "kernel_regularizer": None,
    "recurrent_regularizer": None,
    "bias_regularizer": None,
    "gamma_regularizer": None,
    "kernel_constraint": None,
    "recurrent_constraint": None,
    "bias_constraint": None,
    "gamma_constraint": None,
    "dropout": 0.0,
    "recurrent_dropout": 0.0,
}


# Then the arguments for the other conventions (docs/cells.md), off by default.
CONVENTION_DEFAULTS = {"zoneout_output": 0.0}


def test_signature_is_addons_then_the_conventions():
    parameters = inspect.signature(LayerNormSimpleRNNCell.__init__).parameters
    names = [n for n in parameters if n not in ("self", "kwargs")]
    assert names == ["units", *ADDONS_DEFAULTS, *CONVENTION_DEFAULTS]
    defaults = {**ADDONS_DEFAULTS, **CONVENTION_DEFAULTS}
    assert {n: parameters[n].default for n in defaults} == defaults


def test_weights_names_shapes_and_initial_values():
    cell = LayerNormSimpleRNNCell(3)
    cell.build((None, 5))
    assert [(name, tuple(w.shape)) for name, w in zip(weight_names(cell), cell.weights)] == [
        ("kernel", (5, 3)),
        ("recurrent_kernel", (3, 3)),
        ("bias", (3,)),
        ("layernorm/gamma", (3,)),  # Addons: "gamma" (its sublayer is built unscoped)
    ]
    np.testing.assert_array_equal(to_numpy(cell.layernorm.gamma), np.ones(3))
    assert cell.layernorm.beta is None  # scale only: the bias is the shift


def test_gamma_arguments_reach_the_normalization():
    cell = LayerNormSimpleRNNCell(
        2, layernorm_epsilon=0.5, gamma_initializer="zeros", gamma_regularizer="l2", gamma_constraint="non_neg"
    )
    cell.build((None, 3))
    assert cell.layernorm.epsilon == 0.5
    np.testing.assert_array_equal(to_numpy(cell.layernorm.gamma), 0.0)
    config = cell.get_config()
    assert config["layernorm_epsilon"] == 0.5
    assert config["gamma_regularizer"]["class_name"] == "L2"
    assert config["gamma_constraint"]["class_name"] == "NonNeg"


def test_config_has_no_name_as_in_addons():
    assert "name" not in LayerNormSimpleRNNCell(2, name="x").get_config()


def test_no_bias():
    cell = LayerNormSimpleRNNCell(2, use_bias=False)
    cell.build((None, 3))
    assert cell.bias is None and len(cell.weights) == 3
