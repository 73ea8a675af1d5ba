"""The fast path of the running backend (TensorFlow, JAX or PyTorch; rnn/fast_path.py)
against Keras's generic loop over the same cell, in what the backend-neutral
hypothesis test (robustness/masking_test.py) does not draw: training with
dropout and zoneout (values and gradients), mixed precision, and compiled
training steps. On TensorFlow, sequence_layer_test.py has more (NumPy, XLA,
stateful, Keras 2)."""

import importlib

import numpy as np
import pytest

from tensorflow_lnrnn.rnn import fast_path
from tensorflow_lnrnn.utils.compat import IS_KERAS_3, keras, seed_kwargs
from tensorflow_lnrnn.utils.test_utils import randomize_weights, to_numpy
from tests.cell_cases import ALL_VARIANT_CASES
from tests.conftest import BACKEND
from tests.gradients import compiled_with_unknown_shapes, gradients
from tests.loop_plans import forced_loop_plan

BATCH, TIME, INPUT_DIM, UNITS = 3, 6, 4, 5
FAST_PATH_MODULE = fast_path.MODULES.get(BACKEND)

pytestmark = [
    pytest.mark.skipif(FAST_PATH_MODULE is None, reason=f"no fast path on {BACKEND} (the generic loop runs)"),
    pytest.mark.skipif(not IS_KERAS_3, reason="Keras 3 (Keras 2: sequence_layer_test.py)"),
    pytest.mark.parametrize("case", ALL_VARIANT_CASES, ids=str),
]


@pytest.fixture
def inputs(rng):
    return rng.normal(size=(BATCH, TIME, INPUT_DIM)).astype("float32")


@pytest.fixture
def mask():
    mask = np.ones((BATCH, TIME), dtype=bool)
    mask[0, -2:] = False
    mask[1, :2] = False
    return mask


def fast_and_generic(case, **kwargs):
    """Two layers with the same weights and seed: one on the fast path, one not."""
    layers = []
    for use_fast_path in (True, False):
        layer = case.make_sequence_layer("layer", UNITS, **kwargs)
        layer.build((None, None, INPUT_DIM))
        randomize_weights(layer, seed=0)
        layer.use_fast_path = use_fast_path
        layers.append(layer)
    return layers


def assert_close(a, b, atol=1e-5, rtol=0.0):
    assert len(a) == len(b)
    for x, y in zip(a, b):
        np.testing.assert_allclose(to_numpy(x), to_numpy(y), atol=atol, rtol=rtol)


@pytest.mark.parametrize("masked", [False, True])
def test_the_fast_path_serves_the_call(case, inputs, mask, masked, monkeypatch):
    module = importlib.import_module(f"tensorflow_lnrnn.rnn.{FAST_PATH_MODULE}")
    calls, run = [], module.run
    monkeypatch.setattr(module, "run", lambda *args, **kwargs: calls.append(1) or run(*args, **kwargs))
    fast, generic = fast_and_generic(case, return_sequences=True, return_state=True)
    mask = mask if masked else None
    assert_close(fast(inputs, mask=mask), generic(inputs, mask=mask))
    assert len(calls) == 1


# TF: the default plan, and two lanes with both kernels' weight gradients hoisted
# (tf_fast_path.loop_plan; masking_test.py draws the other plans). The forced
# plan runs in every convention only with `-m slow` (CI).
FORCED_PLANS = [None] + (
    [pytest.param((2, (1, 1)), marks=pytest.mark.slow_in_variants)] if BACKEND == "tensorflow" else []
)


@pytest.mark.parametrize("plan", FORCED_PLANS, ids=str)
@pytest.mark.parametrize("go_backwards", [False, True])
def test_training_with_dropout_and_zoneout_matches_the_generic_loop(case, inputs, mask, go_backwards, plan, rng):
    """The same seed draws the same dropout and zoneout masks for both loops."""
    kwargs = dict(return_sequences=True, dropout=0.3, recurrent_dropout=0.3, go_backwards=go_backwards)
    fast, generic = fast_and_generic(case, **kwargs, **seed_kwargs(11))
    call_kwargs = {"mask": mask, "training": True}
    with forced_loop_plan(plan):
        got = fast(inputs, **call_kwargs)
    assert_close([got], [generic(inputs, **call_kwargs)])
    fast, generic = fast_and_generic(case, **kwargs, **seed_kwargs(11))
    cotangents = [rng.normal(size=(BATCH, TIME, UNITS)).astype("float32")]
    with forced_loop_plan(plan):
        got = gradients(fast, inputs, call_kwargs, cotangents)
    assert_close(got, gradients(generic, inputs, call_kwargs, cotangents), atol=1e-4, rtol=1e-3)


@pytest.mark.slow_in_variants
@pytest.mark.parametrize("policy", ["mixed_float16", "mixed_bfloat16"])
def test_mixed_precision_matches_the_generic_loop(case, inputs, policy):
    keras.mixed_precision.set_global_policy(policy)
    try:
        fast, generic = fast_and_generic(case, return_sequences=True, return_state=True)
        got, expected = fast(inputs), generic(inputs)
    finally:
        keras.mixed_precision.set_global_policy("float32")
    assert got[0].dtype == expected[0].dtype
    assert_close(got, expected, atol=3e-2)


@pytest.mark.tensorflow_backend
@pytest.mark.slow_in_variants
@pytest.mark.parametrize("chunk_inputs", [False, True], ids=["by_step", "by_iteration"])
@pytest.mark.parametrize("policy", ["float32", "mixed_float16"])
def test_a_length_known_only_at_run_time_trains_unrolled_with_dropout(case, inputs, mask, policy, chunk_inputs, rng):
    """Training traced with the batch and length unknown runs several steps
    per iteration in a layer without `return_sequences` (then the steps left
    over in a second loop): with dropout and recurrent dropout, in mixed
    precision too, with the input parts by step or by iteration, values and
    gradients equal the generic loop's."""
    keras.mixed_precision.set_global_policy(policy)
    try:
        layers = fast_and_generic(case, dropout=0.3, recurrent_dropout=0.3, **seed_kwargs(5))
        if layers[0].cell.zoneout_rates():  # (zoneout in training: test_training_with_dropout_and_zoneout...)
            pytest.skip("zoneout in training: the test above")
        call_kwargs = {"mask": mask, "training": True}
        cotangents = [rng.normal(size=(BATCH, UNITS)).astype("float32")]
        # (TIME 6: one whole iteration, two steps left over.)
        with forced_loop_plan((1, None, None, 4, chunk_inputs)):
            got, expected = (compiled_with_unknown_shapes(layer, inputs, call_kwargs, cotangents) for layer in layers)
    finally:
        keras.mixed_precision.set_global_policy("float32")
    atol = 1e-4 if policy == "float32" else 5e-2
    assert_close(got[0], expected[0], atol=atol)
    assert_close(got[1], expected[1], atol=atol, rtol=1e-3)


@pytest.mark.slow_in_variants
def test_compiled_training_steps_match_the_generic_loop(case, inputs, rng):
    """`fit`'s step (compiled: a tf.function, XLA on JAX; eager on PyTorch) trains both alike."""
    targets = rng.normal(size=(BATCH, UNITS)).astype("float32")
    losses, weights = [], []
    for layer in fast_and_generic(case, dropout=0.2, **seed_kwargs(3)):
        model = keras.Sequential([keras.Input((TIME, INPUT_DIM)), layer])
        model.compile(optimizer=keras.optimizers.SGD(0.1), loss="mse")
        losses.append([model.train_on_batch(inputs, targets) for _ in range(3)])
        weights.append(model.get_weights())
    np.testing.assert_allclose(losses[0], losses[1], rtol=1e-4)
    assert_close(weights[0], weights[1], atol=1e-4)


@pytest.mark.skipif(BACKEND != "torch", reason="PyTorch's autograd graph")
def test_torch_loop_reads_the_steps_inputs_without_a_slice_per_step(case, rng):
    """The PyTorch loop takes its steps' inputs by one `unbind`, whose gradient
    is one stack: a slice per step would add, per step, a gradient as large as
    the whole sequence (what a stacked layer's training pays for)."""
    import torch

    layer, _ = fast_and_generic(case, return_sequences=True)
    x = torch.tensor(rng.normal(size=(BATCH, TIME, INPUT_DIM)).astype("float32"), requires_grad=True)
    output = layer(x, training=True)
    seen = {}  # autograd node -> whether the input's gradient flows through it

    def reaches(node):
        if node is None:
            return False
        if node not in seen:
            children = [reaches(child) for child, _ in node.next_functions]  # (all visited)
            seen[node] = getattr(node, "variable", None) is x or any(children)
        return seen[node]

    assert reaches(output.grad_fn)
    names = [node.name() for node, reaches_x in seen.items() if reaches_x]
    assert "UnbindBackward0" in names and not {"SelectBackward0", "SliceBackward0"} & set(names), sorted(names)
