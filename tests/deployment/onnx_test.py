"""ONNX: every public class, in masked stacked and bidirectional models, exports
with Keras's `model.export(format="onnx")` and with tf2onnx from a SavedModel,
and onnxruntime gives Keras's outputs for any batch size."""

import os
import subprocess
import sys

import numpy as np
import pytest

from tensorflow_lnrnn.utils.compat import keras
from tensorflow_lnrnn.utils.test_utils import randomize_weights
from tests.cell_cases import CELL_CASES
from tests.deployment import models

# slow: conversions of ~10 s each, in the `[deploy]` extra; CI runs them (`-m ""`).
pytestmark = [pytest.mark.tensorflow_backend, pytest.mark.slow]
onnxruntime = pytest.importorskip("onnxruntime", reason="pip install -e '.[deploy]'")
pytest.importorskip("tf2onnx", reason="pip install -e '.[deploy]'")


def run_onnx(path, x):
    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    (name,) = [i.name for i in session.get_inputs()]
    return session.run(None, {name: x})


def assert_matches_keras(model, path):
    for batch in (3, 1):  # a dynamic batch size
        x = models.inputs(batch)
        got, expected = run_onnx(path, x), models.keras_outputs(model, x)
        assert len(got) == len(expected)
        for g, e in zip(got, expected):
            np.testing.assert_allclose(g, e, atol=1e-4, rtol=0)


@pytest.mark.parametrize("case, kind, architecture", models.model_params())
def test_keras_onnx_export(case, kind, architecture, tmp_path):
    model = models.build(case, kind, architecture)
    models.keras_outputs(model, models.inputs(2))  # Keras exports only a model that ran
    model.export(str(tmp_path / "model.onnx"), format="onnx", verbose=False)
    assert_matches_keras(model, tmp_path / "model.onnx")


@pytest.mark.parametrize("case, kind, architecture", models.model_params())
def test_tf2onnx_from_a_saved_model(case, kind, architecture, tmp_path):
    model = models.build(case, kind, architecture)
    model.export(str(tmp_path / "saved"), verbose=False)
    result = subprocess.run(
        [sys.executable, "-m", "tf2onnx.convert", "--saved-model", str(tmp_path / "saved"),
         "--signature_def", "serve", "--output", str(tmp_path / "model.onnx")],
        capture_output=True, text=True, timeout=600, env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"},
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    assert_matches_keras(model, tmp_path / "model.onnx")


@pytest.mark.parametrize("case", CELL_CASES, ids=str)
def test_a_length_known_only_at_run_time_exports(case, tmp_path):
    """With no fixed length, a layer without `return_sequences` runs its two
    loops (whole iterations of several steps, then the steps left over) with
    counts known only at run time, either of which can run no iteration;
    every length converts and runs."""
    x = keras.Input((None, models.INPUT_DIM))
    h = case.layer_class(models.UNITS, return_sequences=True)(keras.layers.Masking()(x))
    model = keras.Model(x, case.layer_class(models.UNITS, go_backwards=True)(h))
    randomize_weights(model, scale=0.3)
    model.predict(models.inputs(2), verbose=0)  # Keras exports only a model that ran
    model.export(str(tmp_path / "model.onnx"), format="onnx", verbose=False)
    for time in (1, 3, 4, 5):  # (the plan's four steps per iteration: none, some or all left over)
        for batch in (3, 1):
            inputs = models.inputs(batch)[:, :time]
            (got,) = run_onnx(tmp_path / "model.onnx", inputs)
            np.testing.assert_allclose(got, model.predict(inputs, verbose=0), atol=1e-4, rtol=0)
