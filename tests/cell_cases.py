"""The cells under test: one line per cell family.

Every behaviour and serialization test is parametrized over ``CELL_CASES``, so
a new cell gets the whole test matrix by adding one entry here.
"""

import dataclasses
from typing import Callable

import pytest

import tensorflow_lnrnn as lnrnn
from tensorflow_lnrnn.utils.compat import keras
from tests import numpy_reference


@dataclasses.dataclass(frozen=True)
class CellCase:
    id: str
    cell_class: type
    reference_step: Callable  # numpy_reference.*_step
    num_states: int
    epsilon_argument: str  # the name of the cell's normalization epsilon
    keras_cell_class: type  # the plain Keras cell whose weights ours extends
    layer_class: type  # our whole-sequence layer for this cell
    # The conventions the cell offers besides its default (docs/cells.md), as
    # {name: cell kwargs}; "default" ({}) is Addons' (or Keras's) convention.
    variants: dict = dataclasses.field(default_factory=dict)
    # The variant this case stands for: kwargs given to every cell it makes.
    cell_kwargs: dict = dataclasses.field(default_factory=dict)

    def make(self, units=4, **kwargs):
        return self.cell_class(units, **{**self.cell_kwargs, **kwargs})

    def make_sequence_layer(self, kind, units, cell_kwargs=None, **rnn_kwargs):
        """A layer over whole sequences: `RNN(cell)` for kind "cell", our
        whole-sequence layer for kind "layer"."""
        if kind == "cell":
            return keras.layers.RNN(self.make(units, **(cell_kwargs or {})), **rnn_kwargs)
        return self.layer_class(units, **{**self.cell_kwargs, **(cell_kwargs or {})}, **rnn_kwargs)

    def in_variant(self, name):
        """This case in one of its conventions (`variants`)."""
        return dataclasses.replace(self, id=f"{self.id}-{name}", cell_kwargs=self.variants[name])

    def __str__(self):
        return self.id


CELL_CASES = [
    CellCase(
        "lstm",
        lnrnn.LayerNormLSTMCell,
        numpy_reference.lstm_step,
        2,
        "norm_epsilon",
        keras.layers.LSTMCell,
        lnrnn.LayerNormLSTM,
        {
            "default": {},
            "raw_carry": {"carry_normalized_state": False},
            "gain_only": {"norm_center": False},
            "zoneout": {"zoneout_output": 0.3, "zoneout_cell": 0.6},
            "haste": {"carry_normalized_state": False, "norm_center": False, "zoneout_output": 0.4},
        },
    ),
    CellCase(
        "gru",
        lnrnn.LayerNormGRUCell,
        numpy_reference.gru_step,
        1,
        "norm_epsilon",
        keras.layers.GRUCell,
        lnrnn.LayerNormGRU,
        {"default": {}, "gain_only": {"norm_center": False}, "zoneout": {"zoneout_output": 0.3}},
    ),
    CellCase(
        "simple_rnn",
        lnrnn.LayerNormSimpleRNNCell,
        numpy_reference.simple_rnn_step,
        1,
        "layernorm_epsilon",
        keras.layers.SimpleRNNCell,
        lnrnn.LayerNormSimpleRNN,
        {"default": {}, "zoneout": {"zoneout_output": 0.3}},
    ),
]


# The six public classes, as (case, kind) pairs: kind "cell" runs the cell in
# `keras.layers.RNN`, kind "layer" is the whole-sequence layer.
PUBLIC_CLASSES = [
    pytest.param(case, kind, id=f"{case.cell_class.__name__ if kind == 'cell' else case.layer_class.__name__}")
    for case in CELL_CASES
    for kind in ("cell", "layer")
]


# Every cell in every convention (its `variants`): cases whose cells are all
# made in that convention. The default convention is CELL_CASES itself.
NON_DEFAULT_VARIANT_CASES = [
    case.in_variant(name) for case in CELL_CASES for name in case.variants if name != "default"
]
ALL_VARIANT_CASES = CELL_CASES + NON_DEFAULT_VARIANT_CASES
