"""Forcing the TensorFlow fast path's loop plan (`tf_fast_path.loop_plan`:
lanes, hoisted weight gradients, Gram-matrix normalizations, time steps per
iteration, input parts by iteration) in tests. The plan is chosen by sizes that
tests do not reach (hoisting starts at 512 x 512 kernels, 1024 x 1024 for the SimpleRNN), so the tests that pin the
fast path to Keras's loop force each plan instead: the hypothesis test draws
one per example, over the whole product of options."""

import contextlib

from hypothesis import strategies as st

from tests.conftest import BACKEND


def loop_plans():
    """(lanes, hoist_from, gram_up_to, unroll, chunk_inputs,
    gram_input_up_to): one or two lanes; no kernel hoisted (None), or the
    ones with at least (1-6 rows, 1-12 columns): all, some or none of a
    test's small kernels; no recurrent kernel normalized by its Gram matrix
    (None), or the ones with at most 1-12 rows; 1-3 time steps per loop
    iteration (with the tests' 1-6 steps: none, some or all left over after
    the last whole iteration); an iteration's input parts at once or not;
    no input kernel normalized by its Gram matrix, or the ones with at most
    1-12 rows (all or some of the tests' few input features)."""
    hoist_from = st.none() | st.tuples(st.integers(1, 6), st.integers(1, 12))
    gram_up_to = st.none() | st.integers(1, 12)
    return st.tuples(st.sampled_from([1, 2]), hoist_from, gram_up_to, st.integers(1, 3), st.booleans(), gram_up_to)


@contextlib.contextmanager
def forced_loop_plan(plan):
    """Calls traced inside run the TF fast path with `plan` (the fields of a
    `tf_fast_path.LoopPlan`; None: the default plan). Other backends: no effect."""
    if plan is None or BACKEND != "tensorflow":
        yield
        return
    from tensorflow_lnrnn.rnn import tf_fast_path

    chosen = tf_fast_path.loop_plan
    tf_fast_path.loop_plan = lambda family, batch_size, units, training, **_: tf_fast_path.LoopPlan(*plan)
    try:
        yield
    finally:
        tf_fast_path.loop_plan = chosen
