"""Inputs a user meets at the edges, for each public class: integer and bool
sequences (cast like Keras's own layers do) and an empty time axis."""

import numpy as np
import pytest

from tensorflow_lnrnn.utils.compat import IS_KERAS_3, keras
from tensorflow_lnrnn.utils.test_utils import as_list, randomize_weights
from tests.cell_cases import PUBLIC_CLASSES

pytestmark = pytest.mark.parametrize("case, kind", PUBLIC_CLASSES)

BATCH, TIME, INPUT_DIM, UNITS = 3, 5, 4, 3


@pytest.mark.parametrize("dtype", ["int32", "int64", "uint8", "bool"])
@pytest.mark.parametrize("masked", [False, True])
def test_integer_and_bool_inputs_give_the_outputs_of_their_float_values(case, kind, dtype, masked, rng):
    layer = case.make_sequence_layer(kind, UNITS, return_sequences=True, return_state=True)
    layer.build((None, None, INPUT_DIM))
    randomize_weights(layer)
    values = rng.integers(0, 2 if dtype == "bool" else 5, size=(BATCH, TIME, INPUT_DIM))
    mask = np.arange(TIME)[None, :] < np.array([[TIME], [2], [1]]) if masked else None
    if not IS_KERAS_3:
        # Keras 2's RNN makes integer zero states for integer inputs, and its
        # own LSTM/GRU/SimpleRNN fail in MatMul: ours do the same there.
        keras_layer = {"lstm": keras.layers.LSTM, "gru": keras.layers.GRU, "simple_rnn": keras.layers.SimpleRNN}
        for subject in (layer, keras_layer[case.id](UNITS)):
            with pytest.raises(Exception, match="MatMul"):
                subject(values.astype(dtype), mask=mask)
        return
    got = as_list(layer(values.astype(dtype), mask=mask))
    expected = as_list(layer(values.astype("float32"), mask=mask))
    assert all(g.dtype == np.float32 for g in got)
    for g, e in zip(got, expected):
        np.testing.assert_allclose(g, e, atol=1e-6, rtol=0)


def test_an_empty_time_axis_is_refused(case, kind):
    layer = case.make_sequence_layer(kind, UNITS)
    empty = np.zeros((BATCH, 0, INPUT_DIM), "float32")
    if kind == "cell":
        # `keras.layers.RNN` itself refuses it (with its own error: the cell
        # never sees the time axis, so it cannot say more).
        with pytest.raises(Exception):  # noqa: B017 - Keras's error, whatever its type
            layer(empty)
        return
    with pytest.raises(ValueError, match="empty time axis"):
        layer(empty)
