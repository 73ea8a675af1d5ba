"""Type aliases for constructor arguments, and a typeguard decorator.

The aliases follow TensorFlow Addons' ``tensorflow_addons/utils/types.py`` so that
every argument Addons accepted is accepted here.
"""

import functools
import inspect
import warnings
from typing import Callable, Union

import numpy as np
import typeguard

from tensorflow_lnrnn.utils.compat import keras

Integer = Union[int, np.integer]
Number = Union[float, int, np.floating, np.integer]
Initializer = Union[None, dict, str, Callable, keras.initializers.Initializer]
Regularizer = Union[None, dict, str, Callable, keras.regularizers.Regularizer]
Constraint = Union[None, dict, str, Callable, keras.constraints.Constraint]
# Keras 3 serializes a function activation as a dict, and rebuilds cells from
# such configs (e.g. the backward layer of Bidirectional).
Activation = Union[None, str, dict, Callable]
# Keras 3 takes an int or a `keras.random.SeedGenerator`; Keras 2 has no seeds.
Seed = Union[None, int, np.integer, getattr(getattr(keras, "random", None), "SeedGenerator", int)]
UseCudnn = Union[bool, str]

# typeguard 2.x raises TypeError; typeguard >= 3 raises TypeCheckError, which is
# not a TypeError. Addons pins typeguard<3, so we support both, and callers get
# a TypeError either way.
_TYPE_ERRORS = tuple(error for error in (getattr(typeguard, "TypeCheckError", None),) if error is not None)


def typechecked(function):
    """``typeguard.typechecked`` that always raises ``TypeError``."""
    checked = typeguard.typechecked(function)
    if _TYPE_ERRORS:

        @functools.wraps(function)
        def wrapper(*args, **kwargs):
            try:
                return checked(*args, **kwargs)
            except _TYPE_ERRORS as error:
                raise TypeError(f"{function.__qualname__}: {error}") from None

    else:  # typeguard 2 already raises TypeError, from its own (*args, **kwargs) wrapper.
        wrapper = checked
    # Keras reads constructor argument names with inspect.getfullargspec, which
    # honours __signature__ but not __wrapped__.
    wrapper.__signature__ = inspect.signature(function)
    return wrapper


def check_positive_integer(name, value):
    if isinstance(value, bool) or value <= 0:
        raise ValueError(f"`{name}` must be a positive integer, got {value!r}.")
    return int(value)


def check_rate(name, value):
    if not 0.0 <= value < 1.0:
        raise ValueError(f"`{name}` must be in [0, 1), got {value!r}.")
    return float(value)


def check_epsilon(name, value):
    # 0 is refused too: a zero-variance input (the first step's recurrent
    # projection of a zero state is one) would normalize to NaN, and so would
    # every gradient after it.
    if not value > 0.0:  # also refuses NaN
        raise ValueError(f"`{name}` must be a positive float, got {value!r}.")
    return float(value)


def warn_if_normalizing_one_unit(cell, units, normalization):
    """Warns that a layer normalization over `units == 1` values is constant.

    The normalized value of a single number is 0, so that normalization always
    outputs its shift (beta, or nothing where it has none): the state it
    normalizes carries no information.
    """
    if units == 1:
        warnings.warn(
            f"{type(cell).__name__}(units=1): the layer normalization of {normalization} "
            "runs over a single value, which always normalizes to 0; its output is "
            "the constant shift (beta), whatever the input. Use units >= 2.",
            stacklevel=3,
        )


def check_step_input_shape(cell, input_shape):
    """Refuses a step input that is not (batch, features), with a clear message.

    Inside `keras.layers.RNN` this catches sequences without a time axis (rank
    2) and inputs of rank > 3, which would otherwise fail deep inside TF ops or,
    worse, broadcast silently.
    """
    if len(input_shape) != 2:
        raise ValueError(
            f"{type(cell).__name__} expects each time step to be a 2D tensor "
            "(batch, features), i.e. `keras.layers.RNN` inputs of shape "
            f"(batch, time, features). Received a step input of shape {tuple(input_shape)}."
        )
