"""Constructor arguments at the edges, for each public class: epsilon 0,
units=1, Keras's `implementation` and `use_cudnn`, and the whole-sequence
layers' positional order (that of `keras.layers.LSTM` / `GRU` / `SimpleRNN`)."""

import inspect
import warnings

import numpy as np
import pytest

from tensorflow_lnrnn.utils.compat import IS_KERAS_3, keras
from tensorflow_lnrnn.utils.test_utils import as_list
from tests.cell_cases import CELL_CASES, PUBLIC_CLASSES

KERAS_LAYERS = {"lstm": keras.layers.LSTM, "gru": keras.layers.GRU, "simple_rnn": keras.layers.SimpleRNN}
# After Keras's arguments: the normalization's, then the conventions' (docs/cells.md).
NORMALIZATION_ARGUMENTS = {
    "lstm": [
        "norm_gamma_initializer",
        "norm_beta_initializer",
        "norm_epsilon",
        "norm_center",
        "carry_normalized_state",
        "zoneout_output",
        "zoneout_cell",
    ],
    "gru": ["norm_gamma_initializer", "norm_beta_initializer", "norm_epsilon", "norm_center", "zoneout_output"],
    "simple_rnn": ["layernorm_epsilon", "gamma_initializer", "gamma_regularizer", "gamma_constraint", "zoneout_output"],
}
# The normalization over `units` values: degenerate at units=1 (GRU's run over 3 * units).
NORMALIZES_UNITS = {"lstm": True, "gru": False, "simple_rnn": True}


def _parameters(cls):
    return [n for n, p in inspect.signature(cls.__init__).parameters.items() if n != "self" and p.kind != p.VAR_KEYWORD]


@pytest.mark.parametrize("case, kind", PUBLIC_CLASSES)
def test_epsilon_zero_is_refused_naming_the_argument(case, kind):
    with pytest.raises(ValueError, match=f"`{case.epsilon_argument}` must be a positive float"):
        case.make_sequence_layer(kind, 4, {case.epsilon_argument: 0})


@pytest.mark.parametrize("case, kind", PUBLIC_CLASSES)
def test_the_smallest_epsilon_allowed_stays_finite_on_a_zero_state(case, kind):
    layer = case.make_sequence_layer(kind, 4, {case.epsilon_argument: 1e-12}, return_sequences=True)
    outputs = as_list(layer(np.ones((2, 3, 2), "float32")))[0]
    assert np.all(np.isfinite(outputs))


@pytest.mark.parametrize("case, kind", PUBLIC_CLASSES)
def test_units_1_warns_where_a_normalization_is_over_one_value(case, kind):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        layer = case.make_sequence_layer(kind, 1, return_state=True)
    messages = [str(w.message) for w in caught if "units=1" in str(w.message)]
    assert bool(messages) == NORMALIZES_UNITS[case.id]
    if messages:  # and what it warns of is true: that state is a constant
        rng = np.random.default_rng(0)
        _, *states = as_list(layer(rng.normal(size=(4, 5, 3)).astype("float32")))
        constant_state = states[-1]  # LSTM: the normalized carry; SimpleRNN: its only state
        np.testing.assert_allclose(constant_state, constant_state[:1].repeat(4, axis=0), atol=1e-6)


@pytest.mark.parametrize("case, kind", [p for p in PUBLIC_CLASSES if p.values[0].id != "simple_rnn"])
@pytest.mark.parametrize("implementation", [1, 2])
def test_keras_implementation_argument_is_accepted(case, kind, implementation):
    if kind == "cell":
        case.make(4, implementation=implementation)
    else:
        case.layer_class(4, implementation=implementation)


@pytest.mark.parametrize("case", [c for c in CELL_CASES if c.id != "simple_rnn"], ids=str)
def test_use_cudnn_auto_and_false_are_accepted_true_is_refused(case):
    for value in ("auto", False):
        assert case.layer_class(4, use_cudnn=value).use_cudnn == value
    with pytest.raises(ValueError, match="cuDNN has no layer-normalized RNN"):
        case.layer_class(4, use_cudnn=True)
    with pytest.raises(ValueError, match="`implementation`"):
        case.layer_class(4, implementation=3)


@pytest.mark.parametrize("case", CELL_CASES, ids=str)
def test_layer_positional_order_is_keras_then_normalization(case):
    ours, theirs = _parameters(case.layer_class), _parameters(KERAS_LAYERS[case.id])
    if IS_KERAS_3:
        assert ours == theirs + NORMALIZATION_ARGUMENTS[case.id]
    else:  # Keras 2's layers differ from Keras 3's after `recurrent_dropout`
        common = theirs[: theirs.index("recurrent_dropout") + 1]
        assert ours[: len(common)] == common
    defaults = inspect.signature(KERAS_LAYERS[case.id].__init__).parameters
    for name, parameter in inspect.signature(case.layer_class.__init__).parameters.items():
        if name in defaults and name not in ("self", "kwargs", "units"):
            assert parameter.default == defaults[name].default, name


@pytest.mark.parametrize("case", CELL_CASES, ids=str)
def test_a_positional_call_means_what_it_means_for_keras(case):
    keras_layer = KERAS_LAYERS[case.id]
    names = _parameters(keras_layer)
    if not IS_KERAS_3:  # only the part that Keras 2 and 3 share
        names = names[: names.index("recurrent_dropout") + 1]
    arguments = [inspect.signature(keras_layer.__init__).parameters[p].default for p in names]
    arguments[0] = 3
    arguments[names.index("kernel_initializer")] = "zeros"
    if "return_sequences" in names:
        arguments[names.index("return_sequences")] = True
    ours = case.layer_class(*arguments)
    assert ours.return_sequences is ("return_sequences" in names)
    assert type(ours.cell.kernel_initializer).__name__ == "Zeros"


@pytest.mark.parametrize("case", CELL_CASES, ids=str)
def test_activity_regularizer_and_seed_are_the_layers_as_in_keras(case):
    layer = case.layer_class(3, activity_regularizer="l2", **({"seed": 7} if IS_KERAS_3 else {}))
    config = layer.get_config()
    assert config["activity_regularizer"] is not None
    clone = case.layer_class.from_config(config)
    assert clone.activity_regularizer is not None
    if IS_KERAS_3:
        assert clone.cell.seed == 7
