"""Models saved on TF 2.15 (Keras 2) with Addons' cells, or with ours, load on
Keras 3 and predict what they predicted on TF 2.15.

Fixtures: scripts/make_addons_saved_models.py, run on TF 2.15.1 + Addons 0.23.
"""

import glob
import os
import subprocess
import sys

import numpy as np
import pytest

from tensorflow_lnrnn import LayerNormLSTMCell, activations, migrate
from tensorflow_lnrnn.utils.compat import IS_KERAS_3, keras

pytestmark = pytest.mark.tensorflow_backend  # TF ops, SavedModels, tf.function

FIXTURES = os.path.join(os.path.dirname(__file__), "fixtures")
MODELS = sorted(
    glob.glob(os.path.join(FIXTURES, "addons_saved", "*"))
    + glob.glob(os.path.join(FIXTURES, "lnrnn_keras2_saved", "*"))
)
FORMATS = ["model.h5", "model.keras", "saved_model"]
ARTIFACTS = [
    pytest.param(model, fmt, id=f"{os.path.basename(os.path.dirname(model))}/{os.path.basename(model)}/{fmt}")
    for model in MODELS
    for fmt in FORMATS
]
keras3_only = pytest.mark.skipif(not IS_KERAS_3, reason="migration into Keras 3")


def predictions_match(model, model_dir):
    inputs = np.load(os.path.join(model_dir, "inputs.npy"))
    expected = list(np.load(os.path.join(model_dir, "expected.npz")).values())
    outputs = model.predict(inputs, verbose=0)
    outputs = outputs if isinstance(outputs, list) else [outputs]
    assert len(outputs) == len(expected)
    for got, want in zip(outputs, expected):
        np.testing.assert_allclose(got, want, atol=1e-5, rtol=0)


def test_fixtures_cover_both_cell_sources_and_changed_activations():
    assert len(MODELS) == 6
    assert any(os.path.basename(m) == "changed_activations" for m in MODELS)


@keras3_only
@pytest.mark.parametrize("model_dir, fmt", ARTIFACTS)
def test_load_any_reproduces_tf215_predictions(model_dir, fmt):
    predictions_match(migrate.load_any(os.path.join(model_dir, fmt), log=lambda _: None), model_dir)


@keras3_only
@pytest.mark.parametrize("model_dir, fmt", ARTIFACTS)
def test_converter_writes_a_keras3_file_that_plain_load_model_reads(model_dir, fmt, tmp_path, capsys):
    new = str(tmp_path / "migrated.keras")
    assert migrate.main([os.path.join(model_dir, fmt), new]) == 0
    assert f"[migrate] wrote {new}" in capsys.readouterr().out
    predictions_match(keras.models.load_model(new), model_dir)


@keras3_only
@pytest.mark.parametrize("fmt", ["model.h5", "model.keras"])
def test_plain_keras3_load_model_cannot_read_keras2_rnn_files(fmt):
    """Why the converter exists: Keras 3 refuses Keras 2's RNN configs (`time_major`)
    and module paths, whatever the cell."""
    with pytest.raises(Exception):  # noqa: B017 - any error: Keras 3 cannot read it
        keras.models.load_model(os.path.join(MODELS[0], fmt))


@keras3_only
def test_keras2_saved_model_serves_with_tfsm_layer_without_conversion():
    model_dir = os.path.join(FIXTURES, "addons_saved", "lstm_masked")
    layer = keras.layers.TFSMLayer(os.path.join(model_dir, "saved_model"), call_endpoint="serving_default")
    (output,) = layer(np.load(os.path.join(model_dir, "inputs.npy"))).values()
    np.testing.assert_allclose(output, np.load(os.path.join(model_dir, "expected.npz"))["arr_0"], atol=1e-5)


@keras3_only
def test_addons_names_resolve_to_our_cells_with_keras2_activations():
    config = {
        "class_name": "LayerNormLSTMCell",
        "registered_name": "Addons>LayerNormLSTMCell",
        "module": "tensorflow_addons.rnn.layer_norm_lstm_cell",
        "config": {"units": 3, "recurrent_activation": "hard_sigmoid", "implementation": 2},
    }
    cell = keras.saving.deserialize_keras_object(config)
    assert type(cell) is LayerNormLSTMCell
    assert cell.recurrent_activation is activations.hard_sigmoid_keras2
    assert "Addons>LayerNormLSTMCell" in keras.utils.get_custom_objects()


@pytest.mark.skipif(IS_KERAS_3, reason="Keras 2 reads its own files")
@pytest.mark.parametrize("fmt", FORMATS)
def test_keras2_loads_models_saved_with_our_cells(fmt):
    model_dir = os.path.join(FIXTURES, "lnrnn_keras2_saved", "changed_activations")
    predictions_match(keras.models.load_model(os.path.join(model_dir, fmt), compile=False), model_dir)


def test_command_line_entry_point(tmp_path):
    old = os.path.join(FIXTURES, "lnrnn_keras2_saved", "simple_rnn_stack", "saved_model" if IS_KERAS_3 else "model.h5")
    new = str(tmp_path / "new.keras")
    result = subprocess.run(
        [sys.executable, "-m", "tensorflow_lnrnn.migrate", old, new],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"},
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert "[migrate] wrote" in result.stdout and os.path.exists(new)
