"""Every cell inside every Keras recurrent wrapper, checked against NumPy.

Parametrized over ``tests.cell_cases.CELL_CASES``: each test builds the cell,
gives it random weights and compares Keras's numbers with the independent NumPy
reference in ``tests/numpy_reference.py``.
"""

import numpy as np
import pytest
import tensorflow as tf

from tensorflow_lnrnn.utils.compat import keras, seed_kwargs
from tensorflow_lnrnn.utils.test_utils import randomize_weights, rnn_model
from tests import numpy_reference
from tests.cell_cases import CELL_CASES

BATCH, TIME, INPUT_DIM, UNITS = 3, 5, 3, 4
ATOL = 1e-5

pytestmark = [pytest.mark.parametrize("case", CELL_CASES, ids=str), pytest.mark.tensorflow_backend]


@pytest.fixture
def inputs(rng):
    return rng.normal(size=(BATCH, TIME, INPUT_DIM)).astype("float32")


def built_rnn(case, **rnn_kwargs):
    cell = case.make(UNITS)
    layer = keras.layers.RNN(cell, **rnn_kwargs)
    layer.build((BATCH if layer.stateful else None, None, INPUT_DIM))
    randomize_weights(cell)
    return layer


def reference(case, cell, inputs, mask=None, go_backwards=False, initial_states=None):
    if initial_states is None:
        initial_states = [np.zeros((inputs.shape[0], UNITS))] * case.num_states
    return numpy_reference.run_sequence(
        case.reference_step,
        cell.get_weights(),
        cell.get_config(),
        inputs,
        initial_states,
        mask=mask,
        go_backwards=go_backwards,
    )


def assert_close(actual, expected, atol=ATOL):
    np.testing.assert_allclose(np.asarray(actual), expected, atol=atol, rtol=0)


def test_return_sequences_and_state(case, inputs, device):
    layer = built_rnn(case, return_sequences=True, return_state=True)
    sequences, *states = layer(inputs)
    expected_sequences, expected_states = reference(case, layer.cell, inputs)
    assert_close(sequences, expected_sequences)
    assert len(states) == case.num_states
    for state, expected in zip(states, expected_states):
        assert_close(state, expected)


def test_last_output_only(case, inputs):
    layer = built_rnn(case)
    expected_sequences, _ = reference(case, layer.cell, inputs)
    assert_close(layer(inputs), expected_sequences[:, -1])


def test_initial_state(case, inputs, rng):
    layer = built_rnn(case, return_state=True)
    initial = [rng.normal(size=(BATCH, UNITS)).astype("float32") for _ in range(case.num_states)]
    output, *states = layer(inputs, initial_state=[tf.constant(s) for s in initial])
    expected_sequences, expected_states = reference(case, layer.cell, inputs, initial_states=initial)
    assert_close(output, expected_sequences[:, -1])
    for state, expected in zip(states, expected_states):
        assert_close(state, expected)


def test_go_backwards(case, inputs):
    layer = built_rnn(case, return_sequences=True, go_backwards=True)
    expected, _ = reference(case, layer.cell, inputs, go_backwards=True)
    assert_close(layer(inputs), expected)
    forward, _ = reference(case, layer.cell, inputs)
    assert not np.allclose(expected, forward, atol=1e-3)


def test_unroll_matches_loop(case, inputs):
    model = rnn_model(case.make(UNITS), (TIME, INPUT_DIM), return_sequences=True, unroll=True)
    randomize_weights(model)
    expected, _ = reference(case, model.layers[-1].cell, inputs)
    assert_close(model(inputs), expected)


@pytest.mark.parametrize("go_backwards", [False, True])
def test_mask_argument_holds_state_on_masked_steps(case, inputs, go_backwards):
    mask = np.ones((BATCH, TIME), dtype=bool)
    mask[0, -2:] = False  # trailing padding
    mask[1, :2] = False  # leading padding
    mask[2, 2] = False  # a hole
    layer = built_rnn(case, return_sequences=True, return_state=True, go_backwards=go_backwards)
    sequences, *states = layer(inputs, mask=tf.constant(mask))
    expected, expected_states = reference(case, layer.cell, inputs, mask=mask, go_backwards=go_backwards)
    assert_close(sequences, expected)
    for state, expected_state in zip(states, expected_states):
        assert_close(state, expected_state)
    if not go_backwards:
        # Trailing padding leaves the result of the last real step untouched.
        truncated, _ = reference(case, layer.cell, inputs[:1, : TIME - 2])
        assert_close(states[0][:1], truncated[:, -1])


def test_masking_layer(case, inputs):
    inputs = inputs.copy()
    inputs[0, -2:] = 0.0
    model = keras.Sequential(
        [
            keras.Input((TIME, INPUT_DIM)),
            keras.layers.Masking(0.0),
            keras.layers.RNN(case.make(UNITS), return_sequences=True),
        ]
    )
    randomize_weights(model)
    mask = np.any(inputs != 0.0, axis=-1)
    expected, _ = reference(case, model.layers[-1].cell, inputs, mask=mask)
    assert_close(model(inputs), expected)
    np.testing.assert_array_equal(np.asarray(model(inputs))[0, -1], np.asarray(model(inputs))[0, -3])


def test_stateful_continues_across_calls(case, inputs):
    layer = built_rnn(case, stateful=True, return_sequences=True)
    layer(inputs[:, :2])  # builds the state variables; then start over.
    layer.reset_states()
    first = layer(inputs[:, :2])
    second = layer(inputs[:, 2:])
    expected, _ = reference(case, layer.cell, inputs)
    assert_close(np.concatenate([first, second], axis=1), expected)
    layer.reset_states()
    assert_close(layer(inputs[:, :2]), expected[:, :2])


def test_bidirectional(case, inputs):
    layer = keras.layers.Bidirectional(keras.layers.RNN(case.make(UNITS), return_sequences=True))
    layer.build((None, TIME, INPUT_DIM))
    randomize_weights(layer)
    forward, _ = reference(case, layer.forward_layer.cell, inputs)
    backward, _ = reference(case, layer.backward_layer.cell, inputs, go_backwards=True)
    expected = np.concatenate([forward, backward[:, ::-1]], axis=-1)
    assert_close(layer(inputs), expected)


def test_stacked_rnn_cells(case, inputs):
    cells = [case.make(UNITS), case.make(UNITS + 1)]
    layer = keras.layers.RNN(keras.layers.StackedRNNCells(cells), return_sequences=True)
    layer.build((None, TIME, INPUT_DIM))
    randomize_weights(layer)
    first, _ = reference(case, cells[0], inputs)
    initial = [np.zeros((BATCH, UNITS + 1))] * case.num_states
    second, _ = numpy_reference.run_sequence(
        case.reference_step, cells[1].get_weights(), cells[1].get_config(), first, initial
    )
    assert_close(layer(inputs), second)


def test_dropout_only_in_training(case, inputs):
    cell = case.make(UNITS, dropout=0.5, recurrent_dropout=0.5, **seed_kwargs(7))
    layer = keras.layers.RNN(cell, return_sequences=True)
    layer.build((None, None, INPUT_DIM))
    randomize_weights(cell)
    expected, _ = reference(case, cell, inputs)
    assert_close(layer(inputs, training=False), expected)
    assert_close(layer(inputs), expected)  # inference is the default
    trained_1 = np.asarray(layer(inputs, training=True))
    trained_2 = np.asarray(layer(inputs, training=True))
    assert not np.allclose(trained_1, expected, atol=1e-3)
    assert not np.allclose(trained_1, trained_2, atol=1e-3)  # fresh masks each call


def test_input_dropout_mask_is_shared_across_steps(case):
    # With a constant input sequence and no recurrent dropout, the dropped
    # input units are the same at every step: x * mask must give the
    # reference output of the masked inputs.
    cell = case.make(UNITS, dropout=0.5, **seed_kwargs(3))
    layer = keras.layers.RNN(cell, return_sequences=True)
    layer.build((None, None, INPUT_DIM))
    randomize_weights(cell)
    ones = np.ones((64, TIME, INPUT_DIM), dtype="float32")
    trained = np.asarray(layer(ones, training=True))
    # Every row is one draw of mask/(1-rate) in {0, 2}^D: find it by trying all.
    candidates = {}
    for bits in range(2**INPUT_DIM):
        scaled = np.array([(bits >> d) & 1 for d in range(INPUT_DIM)], dtype="float32") * 2.0
        candidates[bits], _ = reference(case, cell, np.broadcast_to(scaled, (1, TIME, INPUT_DIM)))
    for row in trained:
        assert any(np.allclose(row, c[0], atol=ATOL) for c in candidates.values())


@pytest.mark.parametrize("policy", ["mixed_float16", "mixed_bfloat16"])
def test_mixed_precision(case, rng, policy):
    # Large inputs: x @ kernel squared overflows float16 (max 65504), so the
    # normalization statistics must be computed in float32 to stay finite.
    inputs = (300.0 * rng.normal(size=(BATCH, TIME, INPUT_DIM))).astype("float32")
    reference_layer = built_rnn(case, return_sequences=True)
    expected, _ = reference(case, reference_layer.cell, inputs)
    keras.mixed_precision.set_global_policy(policy)
    try:
        cell = case.make(UNITS)
        layer = keras.layers.RNN(cell, return_sequences=True)
        layer.build((None, None, INPUT_DIM))
        layer.set_weights(reference_layer.get_weights())
        outputs = layer(inputs)
        assert all(w.dtype == "float32" for w in cell.weights)
    finally:
        keras.mixed_precision.set_global_policy("float32")
    assert outputs.dtype == policy.split("_")[1]
    outputs = np.asarray(tf.cast(outputs, "float32"))
    assert np.all(np.isfinite(outputs))
    assert_close(outputs, expected, atol=0.05 if policy == "mixed_bfloat16" else 0.02)


def test_jit_compile_predict_and_train(case, inputs, rng):
    model = rnn_model(case.make(UNITS), (TIME, INPUT_DIM), return_sequences=True)
    randomize_weights(model)
    expected, _ = reference(case, model.layers[-1].cell, inputs)
    compiled = tf.function(lambda x: model(x), jit_compile=True)
    assert_close(compiled(tf.constant(inputs)), expected)
    model.compile(optimizer="sgd", loss="mse", jit_compile=True)
    targets = rng.normal(size=(BATCH, TIME, UNITS)).astype("float32")
    losses = model.fit(inputs, targets, epochs=5, batch_size=BATCH, verbose=0).history["loss"]
    assert np.all(np.isfinite(losses)) and losses[-1] < losses[0]


def test_mirrored_strategy_matches_single_device(case, inputs, rng, mirrored_strategy):
    targets = rng.normal(size=(BATCH + 1, UNITS)).astype("float32")
    inputs = np.concatenate([inputs, inputs[:1] * -1.0])  # an even global batch

    def train(strategy):
        with strategy.scope():
            model = rnn_model(case.make(UNITS), (TIME, INPUT_DIM))
            randomize_weights(model)
            model.compile(optimizer=keras.optimizers.SGD(0.5), loss="mse")
        model.fit(inputs, targets, epochs=2, batch_size=BATCH + 1, shuffle=False, verbose=0)
        return model.get_weights()

    assert mirrored_strategy.num_replicas_in_sync == 2
    single = train(tf.distribute.get_strategy())
    distributed = train(mirrored_strategy)
    initial = randomize_weights(rnn_model(case.make(UNITS), (TIME, INPUT_DIM)))
    assert not np.allclose(single[0], initial[0])  # training moved the weights
    for a, b in zip(distributed, single):
        np.testing.assert_allclose(a, b, atol=1e-5)


def test_plain_keras_cell_weights_load_unchanged(case, inputs):
    plain = keras.layers.RNN(case.keras_cell_class(UNITS))
    plain.build((None, None, INPUT_DIM))
    plain_weights = randomize_weights(plain, seed=5)
    layer = built_rnn(case)
    for ours, theirs in zip(layer.cell.weights, plain_weights):
        ours.assign(theirs)  # same order, same shapes
    expected, _ = reference(case, layer.cell, inputs)
    assert_close(layer(inputs), expected[:, -1])
    for ours, theirs in zip(layer.cell.get_weights(), plain_weights):
        np.testing.assert_array_equal(ours, theirs)


def test_wrong_input_rank_is_refused(case):
    with pytest.raises(ValueError, match=r"\(batch, time, features\)"):
        keras.layers.RNN(case.make(UNITS))(np.zeros((BATCH, INPUT_DIM), "float32"))  # no time axis
    with pytest.raises(ValueError, match=r"\(batch, time, features\)"):
        keras.layers.RNN(case.make(UNITS))(np.zeros((BATCH, TIME, 2, INPUT_DIM), "float32"))
    with pytest.raises(ValueError, match=r"\(batch, time, features\)"):
        keras.layers.RNN(case.make(UNITS))(keras.Input((INPUT_DIM,)))  # symbolic, too
