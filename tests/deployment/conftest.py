"""Both layouts of the TF fast loop convert (`tf_fast_path.loop_plan`): the
stacked models are traced with two lanes (the plan for large batches; the
graph splits and concatenates the batch), the others with the default plan,
which is one lane for these models' few units. Both run several time steps
per loop iteration (the inference plan's `unroll`: four, but for the GRU in
one lane), and the steps left over after the last whole iteration in a
second loop (with a length known only at run time, layers without
`return_sequences`: onnx_test.py's); the forced plan takes an iteration's
input parts at once (`LoopPlan.chunk_inputs`), the default one here not."""

import pytest

from tests.loop_plans import forced_loop_plan


@pytest.fixture(autouse=True)
def _loop_plan(request):
    callspec = getattr(request.node, "callspec", None)
    architecture = callspec.params.get("architecture") if callspec else None
    with forced_loop_plan(None if architecture == "bidirectional" else (2, None, None, 4, True)):
        yield
