"""Masks, initial states, every `keras.layers.RNN` option and every convention
of the cells (`variants`), over their whole product (hypothesis): each public
class equals the independent NumPy reference, and each whole-sequence layer (its fast path) equals
`keras.layers.RNN(layer.cell)` on the same weights, values and gradients (on
TensorFlow also compiled with the batch and length unknown)."""

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tensorflow_lnrnn.utils.compat import keras
from tensorflow_lnrnn.utils.test_utils import as_list, randomize_weights, to_tensor
from tests import numpy_reference
from tests.cell_cases import PUBLIC_CLASSES
from tests.conftest import BACKEND
from tests.gradients import compiled_with_unknown_shapes, gradients
from tests.loop_plans import forced_loop_plan, loop_plans
from tests.strategies import masks

ATOL = 1e-5


@st.composite
def problems(draw):
    batch, time = draw(st.integers(1, 4)), draw(st.integers(1, 6))
    return {
        "batch": batch,
        "time": time,
        "input_dim": draw(st.integers(1, 4)),
        "units": draw(st.integers(2, 5)),
        "mask": draw(masks(batch, time)),
        "initial_state": draw(st.booleans()),
        "rnn": {
            "return_sequences": draw(st.booleans()),
            "return_state": draw(st.booleans()),
            "go_backwards": draw(st.booleans()),
            "zero_output_for_mask": draw(st.booleans()),
        },
        "seed": draw(st.integers(0, 2**16)),
        # One of the case's conventions (cell_cases.py `variants`), by position.
        "variant": draw(st.integers(0, 4)),
        # The TF fast path's layout (lanes, hoisted weight gradients): every one meets every option.
        "loop_plan": draw(loop_plans()),
        # TF: the fast path also compiled with the batch and length unknown (its loop planned for
        # a length known only at run time).
        "unknown_shapes": draw(st.booleans()),
    }


@pytest.mark.parametrize("case, kind", PUBLIC_CLASSES)
# derandomize: the same examples on every run, so CI cannot flake on a new draw. How many:
# the hypothesis profile (conftest.py: 40, or 20 in CI's later environments).
@settings(deadline=None, derandomize=True, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(problem=problems())
def test_masks_and_options_match_rnn_of_the_cell_and_numpy(case, kind, problem):
    rng = np.random.default_rng(problem["seed"])
    names = sorted(case.variants)
    case = case.in_variant(names[problem["variant"] % len(names)])
    batch, units, rnn = problem["batch"], problem["units"], problem["rnn"]
    inputs = rng.normal(size=(batch, problem["time"], problem["input_dim"])).astype("float32")
    layer = case.make_sequence_layer(kind, units, **rnn)
    layer.build((None, None, problem["input_dim"]))
    randomize_weights(layer, seed=problem["seed"])
    initial = [rng.normal(size=(batch, units)).astype("float32") for _ in range(case.num_states)]
    call_kwargs = {"mask": problem["mask"]}
    if problem["initial_state"]:  # (Keras 2 wants tensors there, not arrays)
        call_kwargs["initial_state"] = [to_tensor(s) for s in initial]
    got = as_list(layer(inputs, **call_kwargs))

    sequences, states = numpy_reference.run_sequence(
        case.reference_step,
        layer.cell.get_weights(),
        layer.cell.get_config(),
        inputs,
        initial if problem["initial_state"] else [np.zeros((batch, units))] * case.num_states,
        mask=problem["mask"],
        go_backwards=rnn["go_backwards"],
        zero_output_for_mask=rnn["zero_output_for_mask"],
        # Keras's own backends disagree here; each of our layers follows its backend's RNN.
        masked_output_starts_at_state=BACKEND == "jax",
    )
    output = sequences if rnn["return_sequences"] else sequences[:, -1]
    expected = [output, *states] if rnn["return_state"] else [output]
    assert len(got) == len(expected)
    for g, e in zip(got, expected):
        np.testing.assert_allclose(g, e, atol=ATOL, rtol=0)

    if kind == "layer":  # the same cell in Keras's own loop
        plain = keras.layers.RNN(layer.cell, **rnn)
        with forced_loop_plan(problem["loop_plan"]):
            forced = as_list(layer(inputs, **call_kwargs))
        for g, f, e in zip(got, forced, as_list(plain(inputs, **call_kwargs))):
            np.testing.assert_allclose(g, e, atol=ATOL, rtol=0)
            np.testing.assert_allclose(f, e, atol=ATOL, rtol=0)
        # Gradients: the fast path (every backend; TF: Keras 3 and 2, in the
        # drawn loop plan) against Keras's loop.
        cotangents = [rng.normal(size=g.shape).astype("float32") for g in got]
        with forced_loop_plan(problem["loop_plan"]):
            fast = [gradients(layer, inputs, call_kwargs, cotangents)]
            if BACKEND == "tensorflow" and problem["unknown_shapes"]:
                compiled, compiled_gradients = compiled_with_unknown_shapes(layer, inputs, call_kwargs, cotangents)
                fast.append(compiled_gradients)
                for c, e in zip(compiled, as_list(plain(inputs, **call_kwargs))):
                    np.testing.assert_allclose(c, e, atol=ATOL, rtol=0)
        generic = gradients(plain, inputs, call_kwargs, cotangents)
        # Relative too: layer normalization over few units is steep (condition
        # ~1/sqrt(epsilon)), and float32 op orders differ between the loops.
        for one_fast in fast:
            for f, g in zip(one_fast, generic):
                np.testing.assert_allclose(np.asarray(f), np.asarray(g), atol=1e-4, rtol=1e-3)
