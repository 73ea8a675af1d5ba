"""Constructor contract shared by every cell: types, values, registration."""

import numpy as np
import pytest

from tensorflow_lnrnn.utils.compat import get_registered_name, keras
from tests.cell_cases import CELL_CASES

pytestmark = pytest.mark.parametrize("case", CELL_CASES, ids=str)

WRONG_TYPES = [
    {"units": "8"},
    {"units": 4.0},
    {"units": 4, "activation": 3},
    {"units": 4, "use_bias": "yes"},
    {"units": 4, "kernel_initializer": 1},
    {"units": 4, "dropout": "0.1"},
]
BAD_VALUES = [
    ({"units": 0}, "units"),
    ({"units": -1}, "units"),
    ({"units": True}, "units"),
    ({"units": 4, "dropout": 1.5}, "dropout"),
    ({"units": 4, "dropout": -0.1}, "dropout"),
    ({"units": 4, "recurrent_dropout": 1.0}, "recurrent_dropout"),
]


def describe(value):
    if isinstance(value, dict):
        return "-".join(f"{k}={v!r}" for k, v in value.items())
    return str(value)


@pytest.mark.parametrize("kwargs", WRONG_TYPES, ids=describe)
def test_wrong_types_raise_type_error(case, kwargs):
    with pytest.raises(TypeError):
        case.cell_class(**kwargs)


def test_wrong_epsilon_type_raises_type_error(case):
    with pytest.raises(TypeError):
        case.make(4, **{case.epsilon_argument: "x"})


@pytest.mark.parametrize("kwargs, argument", BAD_VALUES, ids=describe)
def test_bad_values_raise_value_error_naming_the_argument(case, kwargs, argument):
    with pytest.raises(ValueError, match=f"`{argument}`"):
        case.cell_class(**kwargs)


@pytest.mark.parametrize("epsilon", [-1, -1e-9, 0, 0.0, float("nan")])
def test_bad_epsilon_raises_value_error_naming_it(case, epsilon):
    with pytest.raises(ValueError, match=f"`{case.epsilon_argument}`"):
        case.make(4, **{case.epsilon_argument: epsilon})


def test_numpy_scalars_are_accepted_and_stored_as_python_numbers(case):
    cell = case.make(np.int64(3), dropout=0, **{case.epsilon_argument: np.float32(1e-4)})
    assert cell.units == 3 and type(cell.units) is int
    config = cell.get_config()
    assert type(config[case.epsilon_argument]) is float
    assert config[case.epsilon_argument] == pytest.approx(1e-4)


def test_unknown_activation_is_a_clear_error(case):
    with pytest.raises(ValueError, match="no_such_activation"):
        case.make(4, activation="no_such_activation")


def test_registered_under_lnrnn_package(case):
    name = f"LNRNN>{case.cell_class.__name__}"
    assert keras.utils.get_custom_objects()[name] is case.cell_class
    assert get_registered_name(case.cell_class) == name
