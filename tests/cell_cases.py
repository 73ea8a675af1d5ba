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

    def make(self, units=4, **kwargs):
        return self.cell_class(units, **kwargs)

    def make_sequence_layer(self, kind, units, cell_kwargs=None, **rnn_kwargs):
        """A layer over whole sequences: `RNN(cell)` for kind "cell", our
        whole-sequence layer for kind "layer"."""
        if kind == "cell":
            return keras.layers.RNN(self.make(units, **(cell_kwargs or {})), **rnn_kwargs)
        return self.layer_class(units, **(cell_kwargs or {}), **rnn_kwargs)

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
    ),
    CellCase(
        "gru",
        lnrnn.LayerNormGRUCell,
        numpy_reference.gru_step,
        1,
        "norm_epsilon",
        keras.layers.GRUCell,
        lnrnn.LayerNormGRU,
    ),
    CellCase(
        "simple_rnn",
        lnrnn.LayerNormSimpleRNNCell,
        numpy_reference.simple_rnn_step,
        1,
        "layernorm_epsilon",
        keras.layers.SimpleRNNCell,
        lnrnn.LayerNormSimpleRNN,
    ),
]


# The six public classes, as (case, kind) pairs: kind "cell" runs the cell in
# `keras.layers.RNN`, kind "layer" is the whole-sequence layer.
PUBLIC_CLASSES = [
    pytest.param(case, kind, id=f"{case.cell_class.__name__ if kind == 'cell' else case.layer_class.__name__}")
    for case in CELL_CASES
    for kind in ("cell", "layer")
]
