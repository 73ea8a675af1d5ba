"""Every Keras 3 backend computes the same model: a `.keras` file saved here
loads on each other installed backend (TensorFlow, JAX, PyTorch) and predicts
the same numbers, for every cell in `RNN` and every whole-sequence layer (in
each of its conventions), with a mask, `go_backwards`, `return_state`, and dropout (inactive at inference).

CI runs the whole suite under each backend (`KERAS_BACKEND=...`), so this
checks every direction: TF -> JAX/torch, JAX -> TF/torch, torch -> TF/JAX.
"""

import importlib.util
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from tensorflow_lnrnn.utils.compat import IS_KERAS_3, keras
from tensorflow_lnrnn.utils.test_utils import as_list, randomize_weights
from tests.cell_cases import ALL_VARIANT_CASES, CELL_CASES

pytestmark = pytest.mark.skipif(not IS_KERAS_3, reason="Keras 3 backends")
TIME, INPUT_DIM, UNITS = 6, 4, 5
OTHER_BACKENDS = [
    name
    for name, module in (("tensorflow", "tensorflow"), ("jax", "jax"), ("torch", "torch"))
    if IS_KERAS_3 and name != keras.backend.backend() and importlib.util.find_spec(module)
]

LOAD_AND_PREDICT = textwrap.dedent(
    """
    import sys
    import numpy as np
    import keras
    import tensorflow_lnrnn  # registers the classes
    model_path, inputs_path, outputs_path = sys.argv[1:]
    model = keras.models.load_model(model_path)
    outputs = model.predict(np.load(inputs_path), verbose=0)
    np.savez(outputs_path, *outputs)
    print("backend", keras.backend.backend())
    """
)


def every_cell_and_layer_model():
    inputs = keras.Input((TIME, INPUT_DIM))
    masked = keras.layers.Masking(0.0)(inputs)
    outputs = []
    for case in CELL_CASES:
        rnn = keras.layers.RNN(
            case.make(UNITS, dropout=0.3, recurrent_dropout=0.3),
            return_sequences=True,
            return_state=True,
            go_backwards=True,
        )
        outputs.extend(rnn(masked))
    for case in ALL_VARIANT_CASES:  # every convention (zoneout: its expectation here)
        outputs.append(case.make_sequence_layer("layer", UNITS, dropout=0.3, return_sequences=True)(masked))
    model = keras.Model(inputs, outputs)
    randomize_weights(model)
    return model


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    keras.utils.set_random_seed(7)
    model = every_cell_and_layer_model()
    inputs = np.random.default_rng(7).normal(size=(3, TIME, INPUT_DIM)).astype("float32")
    inputs[0, -2:] = 0.0  # masked padding
    folder = tmp_path_factory.mktemp("backends")
    model.save(folder / "model.keras")
    np.save(folder / "inputs.npy", inputs)
    return folder, as_list(model.predict(inputs, verbose=0))


def test_the_model_covers_every_cell_and_layer(saved):
    _, outputs = saved
    assert len(outputs) == sum(case.num_states + 1 for case in CELL_CASES) + len(ALL_VARIANT_CASES)


@pytest.mark.parametrize("backend", OTHER_BACKENDS or [pytest.param(None, marks=pytest.mark.skip("no other backend"))])
def test_other_backend_loads_and_predicts_the_same(saved, backend):
    folder, expected = saved
    env = {**os.environ, "KERAS_BACKEND": backend, "TF_CPP_MIN_LOG_LEVEL": "3"}
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            LOAD_AND_PREDICT,
            str(folder / "model.keras"),
            str(folder / "inputs.npy"),
            str(folder / f"{backend}.npz"),
        ],
        capture_output=True,
        text=True,
        timeout=600,
        env=env,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert f"backend {backend}" in result.stdout
    got = list(np.load(folder / f"{backend}.npz").values())
    assert len(got) == len(expected)
    for a, b in zip(got, expected):
        np.testing.assert_allclose(a, b, atol=1e-5, rtol=0)
