"""The whole-sequence layers (LayerNormLSTM, LayerNormGRU, LayerNormSimpleRNN):
the fast path against the generic loop, against `RNN(cell)` and against NumPy."""

import numpy as np
import pytest
import tensorflow as tf

from tensorflow_lnrnn.utils.compat import IS_KERAS_3, keras, seed_kwargs
from tensorflow_lnrnn.utils.test_utils import randomize_weights
from tests import numpy_reference
from tests.cell_cases import ALL_VARIANT_CASES
from tests.loop_plans import forced_loop_plan

BATCH, TIME, INPUT_DIM, UNITS = 3, 6, 4, 5
ATOL = 1e-5

pytestmark = [pytest.mark.parametrize("case", ALL_VARIANT_CASES, ids=str), pytest.mark.tensorflow_backend]


@pytest.fixture
def inputs(rng):
    return rng.normal(size=(BATCH, TIME, INPUT_DIM)).astype("float32")


@pytest.fixture
def mask():
    mask = np.ones((BATCH, TIME), dtype=bool)
    mask[0, -2:] = False
    mask[1, :2] = False
    mask[2, 3] = False
    return tf.constant(mask)


def fast_and_generic(case, weights_seed=0, units=UNITS, **kwargs):
    """Two identical layers with the same weights: one on the fast path, one not."""
    layers = []
    for use_fast_path in (True, False):
        layer = case.make_sequence_layer("layer", units, **kwargs)
        layer.build((BATCH if layer.stateful else None, None, INPUT_DIM))
        randomize_weights(layer, seed=weights_seed)
        layer.use_fast_path = use_fast_path
        layers.append(layer)
    return layers


def assert_same(a, b, atol=ATOL):
    a = a if isinstance(a, (list, tuple)) else [a]
    b = b if isinstance(b, (list, tuple)) else [b]
    assert len(a) == len(b)
    for x, y in zip(a, b):
        np.testing.assert_allclose(np.asarray(x), np.asarray(y), atol=atol, rtol=0)


@pytest.mark.parametrize("go_backwards", [False, True])
@pytest.mark.parametrize("masked", [False, True])
def test_fast_path_matches_generic_loop_and_numpy(case, inputs, mask, go_backwards, masked, device):
    fast, generic = fast_and_generic(case, return_sequences=True, return_state=True, go_backwards=go_backwards)
    mask = mask if masked else None
    fast_outputs = fast(inputs, mask=mask)
    assert_same(fast_outputs, generic(inputs, mask=mask))
    expected, expected_states = numpy_reference.run_sequence(
        case.reference_step,
        fast.cell.get_weights(),
        fast.cell.get_config(),
        inputs,
        [np.zeros((BATCH, UNITS))] * case.num_states,
        mask=None if mask is None else np.asarray(mask),
        go_backwards=go_backwards,
    )
    assert_same(fast_outputs, [expected, *expected_states])


def test_same_weights_and_outputs_as_rnn_of_the_cell(case, inputs):
    (layer, _), plain = fast_and_generic(case), keras.layers.RNN(case.make(UNITS))
    plain.build((None, None, INPUT_DIM))
    assert [w.shape for w in plain.weights] == [w.shape for w in layer.weights]
    plain.set_weights(layer.get_weights())
    assert_same(layer(inputs), plain(inputs))


def test_initial_state_and_last_output(case, inputs, rng):
    fast, generic = fast_and_generic(case, return_state=True)
    initial = [tf.constant(rng.normal(size=(BATCH, UNITS)).astype("float32")) for _ in range(case.num_states)]
    assert_same(fast(inputs, initial_state=initial), generic(inputs, initial_state=initial))


def test_gradients_match_generic_loop(case, inputs, mask):
    fast, generic = fast_and_generic(case, return_sequences=True)
    cotangent = tf.constant(np.random.default_rng(1).normal(size=(BATCH, TIME, UNITS)).astype("float32"))
    gradients = []
    for layer in (fast, generic):
        x = tf.constant(inputs)
        with tf.GradientTape() as tape:
            tape.watch(x)
            loss = tf.reduce_sum(layer(x, mask=mask) * cotangent)
        gradients.append(tape.gradient(loss, [x] + layer.trainable_weights))
    assert all(g is not None for g in gradients[0])
    assert_same(gradients[0], gradients[1], atol=1e-4)


@pytest.mark.skipif(bool(tf.config.list_logical_devices("GPU")), reason="lanes are for CPU-only machines")
def test_inference_lanes_split_a_dynamic_batch(case, rng):
    """In inference the TF loop runs a large batch as lanes (tf_fast_path.loop_plan);
    a batch only known at run time splits there, and a batch of one leaves a lane
    empty. Training runs one lane, with the weight gradients of large kernels
    hoisted (test_hoisted_weight_gradients below)."""
    from tensorflow_lnrnn.rnn import tf_fast_path

    family = case.make(UNITS).fast_path_family

    def plan(*args, **kwargs):  # the layout (input parts by iteration: asserted below)
        return tf_fast_path.loop_plan(family, *args, **kwargs)._replace(chunk_inputs=False)

    # (Several steps per iteration: test_unrolled_loop... below.)
    lanes = tf_fast_path.LoopPlan(tf_fast_path.LANES, None, unroll=4)
    assert plan(None, 128, training=False) == lanes and tf_fast_path.LANES > 1
    assert plan(64, 128, training=False) == plan(32, 256, training=False) == plan(64, 512, training=False) == lanes
    # (The SimpleRNN's lanes need more rows x units.)
    assert plan(32, 128, training=False) == (
        lanes if family != "simple_rnn" else tf_fast_path.LoopPlan(1, None, unroll=4)
    )
    # Small batches and few units: one lane (two lost up to 2x there).
    one_lane = tf_fast_path.LoopPlan(1, None, unroll=1 if family == "gru" else 4)
    assert plan(1, 128, training=False) == plan(16, 128, training=False) == plan(None, 64, training=False) == one_lane
    # Training: one lane, several steps per iteration (test_unrolled_loop... below).
    # The weight gradients of kernels from 512 x 512 hoisted; the
    # SimpleRNN's from 1024 x 1024 (at 512-768 units it lost on two machines).
    unroll = {"lstm": 2, "gru": 2, "simple_rnn": 4}[family]
    hoist_from = (1024, 1024) if family == "simple_rnn" else (512, 512)
    assert plan(64, 128, training=True) == tf_fast_path.LoopPlan(
        1, hoist_from, gram_up_to=128, unroll=unroll, gram_input_up_to=32
    )
    # A length known only at run time: several steps per iteration in training only.
    assert plan(None, 128, training=True, static_length=False) == plan(None, 128, training=True)
    assert plan(None, 128, training=False, static_length=False) == lanes._replace(unroll=1)
    assert plan(16, 128, training=False, static_length=False) == one_lane._replace(unroll=1)
    # An iteration's input parts at once while they are small: (steps x a
    # lane's rows x the gates' width) up to 16384 in training, 65536 in
    # inference; never for a batch known only at run time.
    chunked = {
        (training, batch): tf_fast_path.loop_plan(family, batch, 128, training).chunk_inputs
        for training in (True, False)
        for batch in (None, 16, 32, 64, 128)
    }
    expected = {
        "lstm": {(True, 16), (False, 16), (False, 32), (False, 64)},  # 2 x 16 x 512; 4 x 32 x 512 (two lanes from 32)
        "gru": {(True, 16), (False, 32), (False, 64)},  # 2 x 16 x 384; 4 x 32 x 384 (one lane: one step)
        "simple_rnn": {(True, 16), (True, 32), (False, 16), (False, 32), (False, 64), (False, 128)},
    }[family]
    assert {key for key, chunk in chunked.items() if chunk} == expected
    # `training=None` (a call outside fit and predict, an export) plans as inference.
    assert tf_fast_path.loop_plan(family, 16, 128, None) == tf_fast_path.loop_plan(family, 16, 128, False)
    fast, generic = fast_and_generic(case, return_sequences=True, return_state=True)
    signature = [tf.TensorSpec((None, None, INPUT_DIM)), tf.TensorSpec((None, None), tf.bool)]
    for jit_compile in (False, True):  # (XLA too)
        call = tf.function(
            lambda x, mask: fast(x, mask=mask, training=False), input_signature=signature, jit_compile=jit_compile
        )
        with forced_loop_plan((2, None)):  # (the test's cells have a few units)
            for batch in (1, 2, 5):
                x = rng.normal(size=(batch, TIME, INPUT_DIM)).astype("float32")
                mask = rng.uniform(size=(batch, TIME)) < 0.7
                assert_same(call(x, mask), generic(x, mask=mask, training=False))


@pytest.mark.slow_in_variants
@pytest.mark.parametrize("policy", ["float32", "mixed_float16"])
def test_hoisted_weight_gradients(case, rng, policy):
    """The weight gradients hoisted out of the backward loop (tf_hoisted_gradients.py;
    forced here: the plan hoists only large kernels) equal the generic loop's, with a
    batch and length known only at run time, under XLA, and in mixed precision
    (masking_test.py draws the hoisted plans against every option)."""
    fast, generic = fast_and_generic(case, return_sequences=True)
    if fast.cell.zoneout_rates():  # (random in training: compiled and eager loops draw other masks)
        pytest.skip("zoneout under hoisting: fast_path_test.py (training, forced plan) and masking_test.py")
    signature = [tf.TensorSpec((None, None, INPUT_DIM)), tf.TensorSpec((None, None), tf.bool)]
    keras.mixed_precision.set_global_policy(policy)
    try:
        # (The same weights, autocast to float16 inside the layers.)
        layers = [case.make_sequence_layer("layer", UNITS, return_sequences=True) for _ in range(2)]
        for layer, source in zip(layers, (fast, generic)):
            layer.build((None, None, INPUT_DIM))
            layer.set_weights(source.get_weights())
            layer.use_fast_path = source.use_fast_path

        def weight_gradients(layer, x, mask):
            with tf.GradientTape() as tape:
                tape.watch(x)
                outputs = tf.cast(layer(x, mask=mask, training=True), tf.float32)
                loss = tf.reduce_sum(outputs * tf.sin(tf.cast(tf.range(UNITS), tf.float32)))
            return tape.gradient(loss, [x] + layer.trainable_weights)

        for jit_compile in (False, True):
            with forced_loop_plan((1, (1, 1))):
                call = tf.function(
                    lambda x, mask: weight_gradients(layers[0], x, mask),
                    input_signature=signature,
                    jit_compile=jit_compile,
                )
                for batch, time in ((3, 6), (2, 4)):
                    x = rng.normal(size=(batch, time, INPUT_DIM)).astype("float32")
                    mask = rng.uniform(size=(batch, time)) < 0.7
                    expected = weight_gradients(layers[1], tf.constant(x), tf.constant(mask))
                    atol = 1e-4 if policy == "float32" else 5e-2
                    assert_same(call(x, mask), expected, atol=atol)
    finally:
        keras.mixed_precision.set_global_policy("float32")


@pytest.mark.parametrize(
    "unroll, training, chunk_inputs",
    # (Input parts by step, or by iteration: `LoopPlan.chunk_inputs`.) The
    # inference cases (unroll 4: the most steps to compile) run in CI's
    # `-m slow` stage.
    [
        (2, True, False),
        (3, True, True),
        pytest.param(4, False, False, marks=pytest.mark.slow),
        pytest.param(4, False, True, marks=pytest.mark.slow),
    ],
)
def test_unrolled_loop_with_every_remainder_and_a_dynamic_batch(case, rng, unroll, training, chunk_inputs):
    """Several time steps per loop iteration (the plan's `unroll`): the steps
    left over after the last whole iteration run in a second loop, and each
    iteration writes its steps' outputs as one element; values and gradients
    equal the generic loop's for every remainder, with a batch known only at
    run time, under XLA too (masking_test.py draws the plan against every
    option). A length known only at run time unrolls too without
    `return_sequences` (both loops' counts are then known only at run time,
    and either may run no iteration; with sequences, one step per
    iteration), here with the weight gradients hoisted in training (with the
    input parts by iteration, the recurrent kernel's only: the input kernel's
    stays in the loop where they are)."""
    if case.cell_kwargs:
        # (The unrolled loop runs each convention's own step: masking_test.py draws
        # unrolled plans, input parts and unknown shapes against every convention;
        # this test, a dozen compilations a case, keeps to the default conventions.)
        pytest.skip("the other conventions: masking_test.py draws unrolled plans against every one")
    layers = {
        "static": fast_and_generic(case, return_sequences=True, return_state=True),
        "dynamic": fast_and_generic(case, return_state=True),
    }
    if training and layers["static"][0].cell.zoneout_rates():  # (random: compiled and eager loops draw other masks)
        pytest.skip("zoneout in training: fast_path_test.py and masking_test.py")

    def outputs_and_gradients(layer, x, mask):
        with tf.GradientTape() as tape:
            tape.watch(x)
            outputs = layer(x, mask=mask, training=training)
            loss = sum(tf.reduce_sum(tf.sin(o)) for o in outputs)
        return outputs, tape.gradient(loss, [x] + layer.trainable_weights)

    def compiled(layer, time, jit_compile):
        signature = [tf.TensorSpec((None, time, INPUT_DIM)), tf.TensorSpec((None, time), tf.bool)]
        return tf.function(
            lambda x, mask: outputs_and_gradients(layer, x, mask), input_signature=signature, jit_compile=jit_compile
        )

    # Fewer steps than one iteration, every remainder, none.
    times = sorted({1, unroll + 1, 2 * unroll - 1, 2 * unroll})
    for jit_compile in (False, True):
        with forced_loop_plan((1, None, None, unroll, chunk_inputs)):
            fast, generic = layers["static"]
            for time in times:
                x = rng.normal(size=(2, time, INPUT_DIM)).astype("float32")
                mask = rng.uniform(size=(2, time)) < 0.7
                got = compiled(fast, time, jit_compile)(x, mask)
                expected = outputs_and_gradients(generic, tf.constant(x), tf.constant(mask))
                assert_same(got[0], expected[0])
                assert_same(got[1], expected[1], atol=1e-4)
        hoist_from = ((UNITS, 1) if chunk_inputs else (1, 1)) if training else None
        with forced_loop_plan((1, hoist_from, None, unroll, chunk_inputs)):
            fast, generic = layers["dynamic"]
            call = compiled(fast, None, jit_compile)
            graph = call.get_concrete_function().graph
            forward = [op for op in graph.get_operations() if op.type.endswith("While") and "grad" not in op.name]
            assert len(forward) == 2  # (whole iterations, then the steps left over)
            # (Under XLA, which compiles for every length, where a loop runs no iteration.)
            for time in times if not jit_compile else (1, 2 * unroll):
                x = rng.normal(size=(2, time, INPUT_DIM)).astype("float32")
                mask = rng.uniform(size=(2, time)) < 0.7
                got = call(x, mask)
                expected = outputs_and_gradients(generic, tf.constant(x), tf.constant(mask))
                assert_same(got[0], expected[0])
                assert_same(got[1], expected[1], atol=1e-4)


@pytest.mark.slow_in_variants
@pytest.mark.skipif(bool(tf.config.list_logical_devices("GPU")), reason="the plans are for CPU-only machines")
def test_the_default_plan_hoists_large_kernels_in_training(case, rng, monkeypatch):
    """Unforced: in training the recurrent kernel of a layer with as many
    units as the hoisting threshold's rows (512; the SimpleRNN's 1024) has its
    weight gradient hoisted, its small input kernel not, and the gradients
    equal the generic loop's."""
    from tensorflow_lnrnn.rnn import tf_fast_path, tf_hoisted_gradients

    hoisted, lane_probes = [], tf_hoisted_gradients.LaneProbes
    monkeypatch.setattr(
        tf_hoisted_gradients,
        "LaneProbes",
        lambda kernels, *args: hoisted.append(len(kernels)) or lane_probes(kernels, *args),
    )
    family = case.make(1).fast_path_family
    units, _ = tf_fast_path.HOIST_FROM_BY_FAMILY.get(family, tf_fast_path.HOIST_FROM)
    # (seeded: zoneout draws the same masks in both loops)
    layers = fast_and_generic(case, units=units, return_sequences=True, **seed_kwargs(11))
    if layers[0].cell.zoneout_rates() and not IS_KERAS_3:
        pytest.skip("Keras 2 draws other zoneout masks in each loop (forced plans: masking_test, fast_path_test)")
    x = tf.constant(rng.normal(size=(2, 3, INPUT_DIM)).astype("float32"))
    cotangent = tf.constant(rng.normal(size=(2, 3, units)).astype("float32"))
    gradients = []
    for layer in layers:
        with tf.GradientTape() as tape:
            tape.watch(x)
            loss = tf.reduce_sum(layer(x, training=True) * cotangent)
        gradients.append(tape.gradient(loss, [x] + layer.trainable_weights))
    assert hoisted == [1]
    assert_same(gradients[0], gradients[1], atol=1e-4)


def test_dropout_same_masks_as_generic_loop_and_none_at_inference(case, inputs):
    kwargs = dict(return_sequences=True, dropout=0.3, recurrent_dropout=0.3, **seed_kwargs(11))
    fast, generic = fast_and_generic(case, **kwargs)
    assert_same(fast(inputs), generic(inputs))  # inference: no dropout
    trained = np.asarray(fast(inputs, training=True))
    assert not np.allclose(trained, np.asarray(fast(inputs)), atol=1e-3)
    if IS_KERAS_3:  # same seed, same draws: the fast path uses Keras's own masks
        fast, generic = fast_and_generic(case, **kwargs)
        assert_same(fast(inputs, training=True), generic(inputs, training=True))


def test_stateful_and_unroll(case, inputs):
    (layer, _), (reference, _) = (
        fast_and_generic(case, stateful=True, return_sequences=True),
        fast_and_generic(case, return_sequences=True),
    )
    first, second = layer(inputs[:, :3]), layer(inputs[:, 3:])
    assert_same(np.concatenate([first, second], axis=1), reference(inputs))
    unrolled = case.make_sequence_layer("layer", UNITS, return_sequences=True, unroll=True)
    unrolled.build((None, TIME, INPUT_DIM))
    unrolled.set_weights(reference.get_weights())
    assert_same(unrolled(inputs), reference(inputs))


@pytest.mark.slow_in_variants
@pytest.mark.parametrize("policy", ["mixed_float16", "mixed_bfloat16"])
def test_mixed_precision(case, inputs, policy):
    reference, _ = fast_and_generic(case, return_sequences=True)
    keras.mixed_precision.set_global_policy(policy)
    try:
        layer = case.make_sequence_layer("layer", UNITS, return_sequences=True)
        layer.build((None, None, INPUT_DIM))
        layer.set_weights(reference.get_weights())
        outputs = layer(300.0 * inputs)  # statistics must be float32 to stay finite
    finally:
        keras.mixed_precision.set_global_policy("float32")
    assert outputs.dtype == policy.split("_")[1]
    outputs = np.asarray(tf.cast(outputs, "float32"))
    assert np.all(np.isfinite(outputs))
    assert_same(outputs, reference(300.0 * inputs), atol=0.05)


@pytest.mark.slow_in_variants
def test_jit_compile_training(case, inputs, rng):
    model = keras.Sequential([keras.Input((TIME, INPUT_DIM)), case.make_sequence_layer("layer", UNITS)])
    randomize_weights(model)
    expected = np.asarray(model(inputs))
    assert_same(tf.function(lambda x: model(x), jit_compile=True)(tf.constant(inputs)), expected)
    model.compile(optimizer="sgd", loss="mse", jit_compile=True)
    targets = rng.normal(size=(BATCH, UNITS))
    before = model.evaluate(inputs, targets, verbose=0)
    # (Judged in inference: zoneout's training loss is noisy by design.)
    losses = model.fit(inputs, targets, epochs=4, verbose=0).history["loss"]
    assert np.all(np.isfinite(losses)) and model.evaluate(inputs, targets, verbose=0) < before


def test_config_round_trip_and_keras_file(case, inputs, tmp_path):
    layer = case.make_sequence_layer("layer", UNITS, return_sequences=True, go_backwards=True, dropout=0.1, name="seq")
    config = layer.get_config()
    clone = case.layer_class.from_config(config)
    assert clone.get_config() == config
    assert "cell" not in config and config["units"] == UNITS
    model = keras.Sequential([keras.Input((TIME, INPUT_DIM)), layer])
    randomize_weights(model)
    model.save(tmp_path / "model.keras")
    restored = keras.models.load_model(tmp_path / "model.keras")
    assert type(restored.layers[-1]) is case.layer_class
    assert_same(restored(inputs), model(inputs), atol=0)


def test_cell_arguments_are_readable_on_the_layer(case):
    layer = case.make_sequence_layer("layer", UNITS, {"use_bias": False, case.epsilon_argument: 0.25})
    assert layer.units == UNITS and layer.use_bias is False
    assert getattr(layer, case.epsilon_argument) == 0.25


def test_bad_arguments_are_refused_like_the_cells(case):
    with pytest.raises(TypeError):
        case.layer_class("8")
    with pytest.raises(ValueError, match="`dropout`"):
        case.layer_class(UNITS, dropout=1.5)


@pytest.mark.parametrize("use_fast_path", [True, False])
def test_the_fast_path_serves_the_call_on_keras_3_and_keras_2(case, inputs, mask, monkeypatch, use_fast_path):
    """The whole-sequence layer runs `tf_fast_path.run` (Keras 3's `inner_loop`,
    Keras 2's `call`), unless told not to or unrolled."""
    from tensorflow_lnrnn.rnn import tf_fast_path

    calls = []
    run = tf_fast_path.run
    monkeypatch.setattr(tf_fast_path, "run", lambda *args, **kwargs: calls.append(1) or run(*args, **kwargs))
    layer, generic = fast_and_generic(case, return_sequences=True, return_state=True)
    layer.use_fast_path = use_fast_path
    assert_same(layer(inputs, mask=mask), generic(inputs, mask=mask))
    assert len(calls) == (1 if use_fast_path else 0)
