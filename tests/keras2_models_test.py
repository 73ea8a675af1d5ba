"""Ordinary Keras 2 recurrent models (no Addons) open on Keras 3 with Keras 2's outputs.

Fixtures: `scripts/make_keras2_rnn_models.py`, run on TF 2.15.1 (Keras 2.15):
every recurrent layer and cell, Bidirectional in every merge mode,
TimeDistributed, ConvLSTM1D/2D, stateful models with `batch_input_shape`,
`input_shape=` on a Sequential's first layer, Embedding(mask_zero) and Masking,
`return_state`, `hard_sigmoid` anywhere, regularizers and constraints, a
compiled model; each in `.h5`, `.keras` and SavedModel, with its inputs and
Keras 2's outputs. Plain `keras.models.load_model` opens none of them.
"""

import glob
import json
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from tensorflow_lnrnn import migrate
from tensorflow_lnrnn.migrate.keras2 import MigrationError, keras2_config_to_keras3
from tensorflow_lnrnn.utils.compat import IS_KERAS_3, keras

FIXTURES = os.path.join(os.path.dirname(__file__), "fixtures", "keras2_rnn")
MODELS = sorted(glob.glob(os.path.join(FIXTURES, "*")))
FORMATS = ["model.h5", "model.keras", "saved_model"]
ATOL = 1e-5

keras3_only = pytest.mark.skipif(not IS_KERAS_3, reason="migration into Keras 3")
quiet = {"log": lambda _: None}


def inputs_of(model_dir):
    path = os.path.join(model_dir, "inputs.npy")
    return np.load(path) if os.path.exists(path) else migrate.load_arrays(os.path.join(model_dir, "inputs.npz"))


def expected_of(model_dir):
    return migrate.load_arrays(os.path.join(model_dir, "expected.npz"))


def test_the_fixtures_cover_the_matrix():
    names = {os.path.basename(m) for m in MODELS}
    assert names >= {
        "lstm_sequential_input_shape",
        "gru_both_reset_after",
        "simple_rnn_options",
        "rnn_over_keras_cells",
        "bidirectional_merge_modes",
        "time_distributed",
        "conv_lstm_1d_2d",
        "stateful_batch_input_shape",
        "text_model_with_states",
        "masking_layer",
        "regularizers_and_constraints",
        "compiled_with_optimizer",
    }
    for model_dir in MODELS:
        assert all(os.path.exists(os.path.join(model_dir, fmt)) for fmt in FORMATS), model_dir


@keras3_only
@pytest.mark.tensorflow_backend  # a SavedModel's weights are read with TensorFlow's checkpoint reader
@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("model_dir", MODELS, ids=os.path.basename)
def test_load_any_reproduces_keras2_outputs(model_dir, fmt):
    model = migrate.load_any(os.path.join(model_dir, fmt), **quiet)
    migrate.check_outputs(model, inputs_of(model_dir), expected_of(model_dir), atol=ATOL, **quiet)


@keras3_only
@pytest.mark.parametrize("model_dir", MODELS, ids=os.path.basename)
def test_plain_keras3_load_model_cannot_open_them(model_dir):
    """Why the tool exists (keras-team/keras#20750)."""
    with pytest.raises(Exception):  # noqa: B017 - any error: Keras 3 cannot read it
        keras.models.load_model(os.path.join(model_dir, "model.h5"), compile=False)


# --- no silent drift --------------------------------------------------------------


def test_hard_sigmoid_is_rewritten_wherever_it_is_an_activation():
    function_form = {"module": "keras.activations", "class_name": "function", "config": "hard_sigmoid"}
    config = {
        "class_name": "Sequential",
        "config": {
            "layers": [
                {"class_name": "Dense", "config": {"name": "d", "activation": "hard_sigmoid"}},
                {"class_name": "Activation", "config": {"name": "a", "activation": function_form}},
                {"class_name": "ConvLSTM2D", "config": {"name": "c", "recurrent_activation": "hard_sigmoid"}},
                {
                    "class_name": "RNN",
                    "config": {
                        "name": "r",
                        "cell": {"class_name": "LSTMCell", "config": {"activation": "hard_sigmoid"}},
                    },
                },
                # Not an activation argument: a name is left alone.
                {"class_name": "Dense", "config": {"name": "hard_sigmoid", "activation": "relu"}},
            ]
        },
    }
    layers = keras2_config_to_keras3(config)["config"]["layers"]
    rewritten = [
        layers[0]["config"]["activation"],
        layers[1]["config"]["activation"],
        layers[2]["config"]["recurrent_activation"],
        layers[3]["config"]["cell"]["config"]["activation"],
    ]
    assert all(a["config"] == "LNRNN>hard_sigmoid_keras2" for a in rewritten)
    assert layers[4]["config"] == {"name": "hard_sigmoid", "activation": "relu"}


@keras3_only
def test_migrated_hard_sigmoid_is_keras2s_and_survives_a_keras3_round_trip(tmp_path):
    """The ConvLSTM fixture drifted by 5e-2 before (Keras 2's default
    recurrent_activation was hard_sigmoid); converted and reloaded, it does not."""
    model_dir = os.path.join(FIXTURES, "conv_lstm_1d_2d")
    new = str(tmp_path / "conv.keras")
    migrate.migrate(os.path.join(model_dir, "model.h5"), new, **quiet)
    reloaded = keras.models.load_model(new)
    migrate.check_outputs(reloaded, inputs_of(model_dir), expected_of(model_dir), atol=ATOL, **quiet)


def test_time_major_true_is_refused_naming_the_layer_and_argument():
    config = {"class_name": "LSTM", "config": {"name": "encoder", "units": 3, "time_major": True}}
    with pytest.raises(MigrationError, match=r"'encoder'.*`time_major=True`"):
        keras2_config_to_keras3(config)


# --- --check, and the optimizer -----------------------------------------------------


@keras3_only
@pytest.mark.tensorflow_backend
def test_check_passes_on_keras2_outputs_and_refuses_other_outputs(tmp_path, capsys):
    model_dir = os.path.join(FIXTURES, "text_model_with_states")
    old, new = os.path.join(model_dir, "saved_model"), str(tmp_path / "text.keras")
    expected = os.path.join(model_dir, "expected.npz")
    assert migrate.main([old, new, "--check", os.path.join(model_dir, "inputs.npy"), "--expected", expected]) == 0
    assert "checked: the 4 output(s) match" in capsys.readouterr().out
    # Outputs that differ (as a silently drifted model's would): refused, nothing written.
    wrong = expected_of(model_dir)
    wrong[1] = wrong[1] + 1e-3
    np.savez(tmp_path / "wrong.npz", *wrong)
    other = str(tmp_path / "other.keras")
    code = migrate.main(
        [old, other, "--check", os.path.join(model_dir, "inputs.npy"), "--expected", str(tmp_path / "wrong.npz")]
    )
    assert code == 2 and not os.path.exists(other)
    assert "error: output 1 differs from the expected outputs" in capsys.readouterr().err


def test_check_and_expected_go_together(capsys):
    with pytest.raises(SystemExit):
        migrate.main(["a.h5", "b.keras", "--check", "inputs.npy"])
    assert "--check and --expected go together" in capsys.readouterr().err


@keras3_only
@pytest.mark.tensorflow_backend
@pytest.mark.parametrize("fmt", FORMATS)
def test_a_compiled_models_optimizer_state_is_dropped_with_a_message(fmt):
    messages = []
    model = migrate.load_any(os.path.join(FIXTURES, "compiled_with_optimizer", fmt), log=messages.append)
    assert any("optimizer state" in m and "not carried over" in m for m in messages), messages
    model.compile(optimizer="adam", loss="mse")  # training resumes from the weights
    x = inputs_of(os.path.join(FIXTURES, "compiled_with_optimizer"))
    assert np.isfinite(model.train_on_batch(x, np.zeros((len(x), 1))))


# --- the converted .keras on the other backends -------------------------------------

PREDICT_ALL = textwrap.dedent(
    """
    import json, sys
    import numpy as np
    import keras
    import tensorflow_lnrnn  # registers the Keras 2 hard_sigmoid
    from tensorflow_lnrnn.migrate import check_outputs, load_arrays
    failures = {}
    for name, (path, inputs, expected) in json.loads(sys.argv[1]).items():
        try:
            model = keras.models.load_model(path)
            inputs = load_arrays(inputs)
            check_outputs(model, inputs[0] if len(inputs) == 1 else inputs, load_arrays(expected), atol=1e-5, log=lambda _: None)
        except Exception as error:
            failures[name] = str(error)[:500]
    print("FAILURES", json.dumps(failures))
    """
)


@pytest.mark.slow  # two fresh processes, 12 conversions (CI runs it)
@keras3_only
@pytest.mark.tensorflow_backend
@pytest.mark.parametrize("backend", ["jax", "torch"])
def test_converted_files_give_keras2_outputs_on_jax_and_torch(backend, tmp_path):
    import importlib.util

    if importlib.util.find_spec(backend) is None:
        pytest.skip(f"{backend} is not installed")
    jobs = {}
    for model_dir in MODELS:
        name = os.path.basename(model_dir)
        new = str(tmp_path / f"{name}.keras")
        migrate.migrate(os.path.join(model_dir, "model.h5"), new, **quiet)
        inputs = os.path.join(model_dir, "inputs.npy")
        jobs[name] = [
            new,
            inputs if os.path.exists(inputs) else inputs[:-1] + "z",
            os.path.join(model_dir, "expected.npz"),
        ]
    env = {**os.environ, "KERAS_BACKEND": backend, "TF_CPP_MIN_LOG_LEVEL": "3"}
    result = subprocess.run(
        [sys.executable, "-c", PREDICT_ALL, json.dumps(jobs)], capture_output=True, text=True, timeout=900, env=env
    )
    assert result.returncode == 0, result.stderr[-3000:]
    failures = json.loads(result.stdout.split("FAILURES", 1)[1])
    assert failures == {}, failures
