"""The conventions besides Addons' (docs/cells.md): the paper's raw carry
(`carry_normalized_state=False`), gain-only normalizations (`norm_center=False`)
and zoneout (`zoneout_output`, `zoneout_cell`).

The shared matrix runs every convention through the save formats, masks,
`go_backwards`, the fast path against the generic loop and the NumPy reference
(`cell_cases.py` `variants`, used by `sequence_layer_test`, `serialization_test`,
`masking_test`, `reference_property_test`, `backends_test`). This module checks
what is particular to each: zoneout in training (where the masks are random),
weights, configs and errors.
"""

import numpy as np
import pytest

from tensorflow_lnrnn.utils.compat import IS_KERAS_3, keras
from tensorflow_lnrnn.utils.test_utils import as_list, randomize_weights, to_numpy, weight_names
from tests import numpy_reference
from tests.cell_cases import CELL_CASES
from tests.conftest import BACKEND

BATCH, TIME, INPUT_DIM, UNITS = 3, 6, 4, 5
CASES = {case.id: case for case in CELL_CASES}
ZONEOUT_CASES = [case.in_variant("zoneout") for case in CELL_CASES]


@pytest.fixture
def inputs(rng):
    return rng.normal(size=(BATCH, TIME, INPUT_DIM)).astype("float32")


# --- defaults: Addons' convention, unchanged --------------------------------


@pytest.mark.parametrize("case", CELL_CASES, ids=str)
def test_defaults_add_nothing_to_the_config(case):
    """A default cell's config is Addons' (no new keys): Addons can load it."""
    config = case.make(UNITS).get_config()
    assert not {"carry_normalized_state", "norm_center", "zoneout_output", "zoneout_cell"} & set(config)


@pytest.mark.parametrize("case", [CASES["lstm"].in_variant("haste"), CASES["gru"].in_variant("zoneout")], ids=str)
def test_non_default_arguments_round_trip_through_the_config(case):
    for make in (case.make, lambda units: case.make_sequence_layer("layer", units)):
        made = make(UNITS)
        config = made.get_config()
        for name, value in case.cell_kwargs.items():
            assert config[name] == value and getattr(made, name) == value
        assert type(made).from_config(config).get_config() == config


# --- the paper's raw carry ---------------------------------------------------


def test_raw_carry_is_carried_and_normalized_only_for_the_output(inputs):
    """carry_normalized_state=False: the final `c` is the raw sum (not zero-mean
    over units), while the default's is normalized (mean = beta = 0)."""
    carried = {}
    for carry_normalized_state in (True, False):
        cell = CASES["lstm"].make(UNITS, carry_normalized_state=carry_normalized_state)
        rnn = keras.layers.RNN(cell, return_state=True)
        rnn.build((None, None, INPUT_DIM))
        randomize_weights(cell, seed=3)
        cell.state_norm.set_weights([np.ones(UNITS), np.zeros(UNITS)])
        _, _, c = as_list(rnn(inputs))
        carried[carry_normalized_state] = to_numpy(c)
    np.testing.assert_allclose(carried[True].mean(axis=-1), 0.0, atol=1e-5)
    assert np.abs(carried[False].mean(axis=-1)).max() > 1e-2


# --- gain-only normalizations ------------------------------------------------


def test_gain_only_lstm_has_no_gate_shifts_and_keeps_the_state_shift():
    """As haste: the bias is the gates' shift; nothing else would shift `c`."""
    rnn = keras.layers.RNN(CASES["lstm"].make(UNITS, norm_center=False))
    rnn.build((None, None, INPUT_DIM))
    names = weight_names(rnn.cell)
    assert [n.split("/")[-1] for n in names] == [
        "kernel",
        "recurrent_kernel",
        "bias",
        "gamma",
        "gamma",
        "gamma",
        "beta",
    ]
    assert names[-1].endswith("state_norm/beta")


def test_gain_only_gru_keeps_its_biases():
    rnn = keras.layers.RNN(CASES["gru"].make(UNITS, norm_center=False))
    rnn.build((None, None, INPUT_DIM))
    names = [name.split("/")[-1] for name in weight_names(rnn.cell)]
    assert names == ["kernel", "recurrent_kernel", "bias", "gamma", "gamma"]


# --- zoneout -------------------------------------------------------------------


@pytest.mark.parametrize("case", CELL_CASES, ids=str)
@pytest.mark.parametrize("argument", ["zoneout_output", "zoneout_cell"])
@pytest.mark.parametrize("rate", [-0.1, 1.0, 1.5])
def test_zoneout_rates_outside_0_1_are_refused_naming_the_argument(case, argument, rate):
    if argument == "zoneout_cell" and case.id != "lstm":
        # Only the LSTM has a cell state: Keras refuses the unknown argument.
        with pytest.raises((TypeError, ValueError), match="zoneout_cell"):
            case.make(UNITS, zoneout_cell=0.5)
        return
    for make in (case.make, lambda units, **kw: case.make_sequence_layer("layer", units, kw)):
        with pytest.raises(ValueError, match=f"`{argument}`"):
            make(UNITS, **{argument: rate})


@pytest.mark.parametrize("case", ZONEOUT_CASES, ids=str)
def test_zoneout_step_keeps_each_unit_or_takes_the_new_value(case, rng):
    """One training step of the cell: each unit of each zoned-out state is its
    previous value or the new one (computed without zoneout), the kept fraction
    is the rate, and the next step draws a fresh mask."""
    if BACKEND == "jax" and IS_KERAS_3:
        pytest.skip("on JAX the cell refuses per-step draws (tested below); the layer draws them")
    batch = 400
    zoned, plain = (
        case.make(UNITS),
        case.make(UNITS, zoneout_output=0.0, **({"zoneout_cell": 0.0} if "zoneout_cell" in case.cell_kwargs else {})),
    )
    for cell in (zoned, plain):
        keras.layers.RNN(cell).build((None, None, INPUT_DIM))
    randomize_weights(zoned, seed=5)
    plain.set_weights(zoned.get_weights())
    x = rng.normal(size=(batch, INPUT_DIM)).astype("float32")
    states = [rng.normal(size=(batch, UNITS)).astype("float32") for _ in range(case.num_states)]
    _, new = plain(x, states)
    kept = []
    for _ in range(2):
        _, zoned_states = zoned(x, states, training=True)
        for index, rate in zoned.zoneout_rates():
            got, previous, fresh = (to_numpy(s) for s in (zoned_states[index], states[index], new[index]))
            keep = np.isclose(got, previous, atol=1e-6)
            assert np.all(keep | np.isclose(got, fresh, atol=1e-6))
            assert abs(keep.mean() - rate) < 0.05
            kept.append(keep)
    assert not np.array_equal(kept[0], kept[len(kept) // 2])  # a fresh mask at every step


@pytest.mark.parametrize("case", ZONEOUT_CASES, ids=str)
@pytest.mark.parametrize("go_backwards", [False, True])
@pytest.mark.parametrize("masked", [False, True])
def test_zoneout_training_matches_numpy_with_the_layers_masks(case, inputs, go_backwards, masked):
    """The whole-sequence layer draws the masks of all steps before its loop;
    given those masks, NumPy computes the same sequence (fast path and generic
    loop alike)."""
    if not IS_KERAS_3:
        pytest.skip("Keras 2's RNN has no inner loop to draw them in: its cells draw per step (tested above)")
    mask = np.ones((BATCH, TIME), dtype=bool)
    mask[0, -2:] = False
    mask[1, :2] = False
    layer = case.make_sequence_layer("layer", UNITS, return_sequences=True, go_backwards=go_backwards, seed=9)
    layer.build((None, None, INPUT_DIM))
    randomize_weights(layer, seed=2)
    for use_fast_path in (True, False):
        layer.use_fast_path = use_fast_path
        start = to_numpy(layer.cell.seed_generator.state)
        zoneout_masks = to_numpy(layer.cell.draw_zoneout_masks(keras.ops.convert_to_tensor(inputs)))
        layer.cell.seed_generator.state.assign(start)  # the layer draws the same masks again
        got = layer(inputs, training=True, mask=mask if masked else None)
        expected, _ = numpy_reference.run_sequence(
            case.reference_step,
            layer.cell.get_weights(),
            layer.cell.get_config(),
            inputs,
            [np.zeros((BATCH, UNITS))] * case.num_states,
            mask=mask if masked else None,
            go_backwards=go_backwards,
            training=True,
            zoneout_masks=zoneout_masks,
        )
        np.testing.assert_allclose(to_numpy(got), expected, atol=1e-5, rtol=0)
        assert 0.0 < zoneout_masks.mean() < 1.0


@pytest.mark.parametrize("case", ZONEOUT_CASES, ids=str)
def test_zoneout_training_with_unroll_uses_the_same_masks(case, inputs):
    """`unroll=True` runs Keras's unrolled loop over the cell with the layer's masks."""
    if not IS_KERAS_3:
        pytest.skip("Keras 2: the cells draw per step")
    looped, unrolled = (
        case.make_sequence_layer("layer", UNITS, return_sequences=True, unroll=unroll, seed=5)
        for unroll in (False, True)
    )
    for layer in (looped, unrolled):
        layer.build((None, TIME, INPUT_DIM))
        randomize_weights(layer, seed=8)
    np.testing.assert_allclose(
        to_numpy(unrolled(inputs, training=True)), to_numpy(looped(inputs, training=True)), atol=1e-5, rtol=0
    )


@pytest.mark.parametrize("case", ZONEOUT_CASES, ids=str)
def test_zoneout_is_reproducible_with_a_seed_and_off_in_inference(case, inputs):
    seed = {"seed": 4} if IS_KERAS_3 else {}
    first, second = (case.make_sequence_layer("layer", UNITS, **seed) for _ in range(2))
    for layer in (first, second):
        layer.build((None, None, INPUT_DIM))
        randomize_weights(layer, seed=1)
    trained = to_numpy(first(inputs, training=True))
    if IS_KERAS_3:
        np.testing.assert_array_equal(trained, to_numpy(second(inputs, training=True)))
    np.testing.assert_array_equal(to_numpy(first(inputs)), to_numpy(second(inputs)))
    assert not np.allclose(trained, to_numpy(first(inputs)), atol=1e-4)


@pytest.mark.parametrize("case", ZONEOUT_CASES, ids=str)
def test_zoneout_cell_in_keras_rnn_trains_or_is_refused_on_jax(case, inputs):
    rnn = keras.layers.RNN(case.make(UNITS))
    rnn.build((None, None, INPUT_DIM))
    if BACKEND == "jax" and IS_KERAS_3:
        with pytest.raises(ValueError, match="JAX.*whole-sequence layer"):
            rnn(inputs, training=True)
        return
    trained = to_numpy(rnn(inputs, training=True))
    assert np.all(np.isfinite(trained)) and not np.allclose(trained, to_numpy(rnn(inputs)), atol=1e-4)


@pytest.mark.parametrize("case", ZONEOUT_CASES, ids=str)
def test_zoneout_model_trains_with_fit(case, inputs, rng):
    """Through `fit` (compiled on every backend; JAX in its stateless scope)."""
    model = keras.Sequential([keras.Input((TIME, INPUT_DIM)), case.make_sequence_layer("layer", UNITS)])
    model.compile(optimizer="sgd", loss="mse")
    history = model.fit(inputs, rng.normal(size=(BATCH, UNITS)), epochs=2, verbose=0)
    assert np.all(np.isfinite(history.history["loss"]))
