"""LayerNormLSTMCell's own contract: arguments, defaults, weights, errors."""

import inspect

import numpy as np

from tensorflow_lnrnn import LayerNormLSTMCell
from tensorflow_lnrnn.utils.test_utils import to_numpy, weight_names

# Addons 0.23's signature, read off tensorflow_addons/rnn/layer_norm_lstm_cell.py.
ADDONS_DEFAULTS = {
    "activation": "tanh",
    "recurrent_activation": "sigmoid",
    "use_bias": True,
    "kernel_initializer": "glorot_uniform",
    "recurrent_initializer": "orthogonal",
    "bias_initializer": "zeros",
    "unit_forget_bias": True,
    "kernel_regularizer": None,
    "recurrent_regularizer": None,
    "bias_regularizer": None,
    "kernel_constraint": None,
    "recurrent_constraint": None,
    "bias_constraint": None,
    "dropout": 0.0,
    "recurrent_dropout": 0.0,
    "norm_gamma_initializer": "ones",
    "norm_beta_initializer": "zeros",
    "norm_epsilon": 1e-3,
}


# Then the arguments for the other conventions (docs/cells.md), off by default.
CONVENTION_DEFAULTS = {"norm_center": True, "carry_normalized_state": True, "zoneout_output": 0.0, "zoneout_cell": 0.0}


def test_signature_is_addons_then_the_conventions():
    parameters = inspect.signature(LayerNormLSTMCell.__init__).parameters
    names = [n for n in parameters if n not in ("self", "kwargs")]
    assert names == ["units", *ADDONS_DEFAULTS, *CONVENTION_DEFAULTS]
    defaults = {**ADDONS_DEFAULTS, **CONVENTION_DEFAULTS}
    assert {n: parameters[n].default for n in defaults} == defaults


def test_weights_names_shapes_and_initial_values():
    cell = LayerNormLSTMCell(3)
    cell.build((None, 5))
    shapes = dict(zip(weight_names(cell), (tuple(w.shape) for w in cell.weights)))
    assert shapes == {
        "kernel": (5, 12),
        "recurrent_kernel": (3, 12),
        "bias": (12,),
        "kernel_norm/gamma": (12,),
        "kernel_norm/beta": (12,),
        "recurrent_norm/gamma": (12,),
        "recurrent_norm/beta": (12,),
        "state_norm/gamma": (3,),
        "state_norm/beta": (3,),
    }
    np.testing.assert_array_equal(to_numpy(cell.bias), [0] * 3 + [1] * 3 + [0] * 6)  # unit_forget_bias
    np.testing.assert_array_equal(to_numpy(cell.kernel_norm.gamma), np.ones(12))
    np.testing.assert_array_equal(to_numpy(cell.state_norm.beta), np.zeros(3))


def test_norm_arguments_reach_the_norm_layers():
    cell = LayerNormLSTMCell(2, norm_epsilon=0.5, norm_gamma_initializer="zeros", norm_beta_initializer="ones")
    cell.build((None, 3))
    for norm in (cell.kernel_norm, cell.recurrent_norm, cell.state_norm):
        assert norm.epsilon == 0.5
        np.testing.assert_array_equal(to_numpy(norm.gamma), 0.0)
        np.testing.assert_array_equal(to_numpy(norm.beta), 1.0)


def test_no_bias():
    cell = LayerNormLSTMCell(2, use_bias=False)
    cell.build((None, 3))
    assert cell.bias is None and len(cell.weights) == 8
