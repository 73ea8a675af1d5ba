"""LayerNormGRUCell's own contract: Keras GRUCell's arguments and weights, and it learns."""

import importlib.util
import inspect
import os

import numpy as np
import pytest

from tensorflow_lnrnn import LayerNormGRUCell
from tensorflow_lnrnn.utils.compat import keras
from tensorflow_lnrnn.utils.test_utils import to_numpy, weight_names
from tests import numpy_reference

NORM_DEFAULTS = {
    "norm_gamma_initializer": "ones",
    "norm_beta_initializer": "zeros",
    "norm_epsilon": 1e-3,
    "norm_center": True,
    "zoneout_output": 0.0,
}


def test_signature_is_keras_gru_cell_plus_norm_arguments():
    ours = inspect.signature(LayerNormGRUCell.__init__).parameters
    keras_gru = inspect.signature(keras.layers.GRUCell.__init__).parameters
    keras_names = [n for n in keras_gru if n not in ("self", "kwargs", "seed")]
    assert [n for n in ours if n not in ("self", "kwargs")] == keras_names + list(NORM_DEFAULTS)
    for name in keras_names[1:]:
        assert ours[name].default == keras_gru[name].default, name
    assert {n: ours[n].default for n in NORM_DEFAULTS} == NORM_DEFAULTS
    if "seed" in keras_gru:
        assert LayerNormGRUCell(2, seed=3).seed == 3  # Keras 3's `seed` passes through.


def test_weights_names_and_shapes():
    cell = LayerNormGRUCell(3)
    cell.build((None, 5))
    assert [(name, tuple(w.shape)) for name, w in zip(weight_names(cell), cell.weights)] == [
        ("kernel", (5, 9)),
        ("recurrent_kernel", (3, 9)),
        ("bias", (2, 9)),
        ("kernel_norm/gamma", (9,)),
        ("kernel_norm/beta", (9,)),
        ("recurrent_norm/gamma", (9,)),
        ("recurrent_norm/beta", (9,)),
    ]


def test_reset_after_false_is_refused_with_what_is_supported():
    with pytest.raises(ValueError, match="reset_after=True"):
        LayerNormGRUCell(4, reset_after=False)


def test_trained_keras_gru_weights_load_unchanged(rng):
    inputs = rng.normal(size=(8, 5, 3)).astype("float32")
    gru = keras.Sequential([keras.Input((5, 3)), keras.layers.GRU(4)])
    gru.compile(optimizer="adam", loss="mse")
    gru.fit(inputs, rng.normal(size=(8, 4)), epochs=3, verbose=0)
    kernel, recurrent_kernel, bias = gru.layers[0].get_weights()

    cell = LayerNormGRUCell(4)
    layer = keras.layers.RNN(cell)
    layer.build((None, 5, 3))
    cell.kernel.assign(kernel)
    cell.recurrent_kernel.assign(recurrent_kernel)
    cell.bias.assign(bias)
    for ours, theirs in zip(cell.get_weights()[:3], [kernel, recurrent_kernel, bias]):
        np.testing.assert_array_equal(ours, theirs)
    # And the cell computes with them: its output is the reference GRU-LN's.
    expected, _ = numpy_reference.run_sequence(
        numpy_reference.gru_step, cell.get_weights(), cell.get_config(), inputs, [np.zeros((8, 4))]
    )
    np.testing.assert_allclose(to_numpy(layer(inputs)), expected[:, -1], atol=1e-5)


def load_adding_problem():
    path = os.path.join(os.path.dirname(__file__), "..", "..", "examples", "adding_problem.py")
    spec = importlib.util.spec_from_file_location("adding_problem", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.adding_problem


def test_learns_what_simple_rnn_cannot_in_the_same_budget():
    """Adding problem over 40 steps, 6 epochs of 2000 sequences, 16 units each."""
    rng = np.random.default_rng(0)
    adding_problem = load_adding_problem()
    x, y = adding_problem(2000, 40, rng)
    x_test, y_test = adding_problem(500, 40, rng)

    def test_loss(recurrent_layer):
        keras.utils.set_random_seed(0)
        model = keras.Sequential([keras.Input((40, 2)), recurrent_layer, keras.layers.Dense(1)])
        model.compile(optimizer=keras.optimizers.Adam(1e-2), loss="mse")
        model.fit(x, y, epochs=6, batch_size=64, verbose=0)
        return model.evaluate(x_test, y_test, verbose=0)

    ours = test_loss(keras.layers.RNN(LayerNormGRUCell(16)))
    simple = test_loss(keras.layers.SimpleRNN(16))
    assert ours < 0.02, ours  # predicting the mean scores about 0.17
    assert simple > 0.05, simple
