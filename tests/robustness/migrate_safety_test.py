"""The migrate tool on files from strangers: it runs nothing stored in them,
never loses or half-writes a file, and fails with one `error:` line."""

import base64
import errno
import json
import marshal
import os
import pathlib
import re
import shutil
import subprocess
import sys

import numpy as np
import pytest

from tensorflow_lnrnn import migrate
from tensorflow_lnrnn.utils.compat import IS_KERAS_3

pytestmark = [
    pytest.mark.tensorflow_backend,
    pytest.mark.skipif(not IS_KERAS_3, reason="migration into Keras 3"),
]

FIXTURES = os.path.join(os.path.dirname(os.path.dirname(__file__)), "fixtures")
MODEL_DIR = os.path.join(FIXTURES, "addons_saved", "lstm_masked")
H5 = os.path.join(MODEL_DIR, "model.h5")


def run_main(capsys, *argv):
    code = migrate.main([str(a) for a in argv])
    captured = capsys.readouterr()
    return code, captured.err


def _ours(stderr):
    """stderr without TensorFlow's own start-up log lines (absl's, which it
    prints on import whatever TF_CPP_MIN_LOG_LEVEL says)."""
    return [
        line
        for line in stderr.strip().splitlines()
        if not re.match(r"([IWEF]\d{4} |WARNING: All log messages before absl)", line)
    ]


def assert_one_error_line(code, err):
    assert code == 2
    lines = _ours(err)
    assert len(lines) == 1 and lines[0].startswith("error: "), err
    assert "Traceback" not in err


def predictions_match(model):
    inputs = np.load(os.path.join(MODEL_DIR, "inputs.npy"))
    expected = np.load(os.path.join(MODEL_DIR, "expected.npz"))["arr_0"]
    np.testing.assert_allclose(model.predict(inputs, verbose=0), expected, atol=1e-5, rtol=0)


def crafted_saved_model(tmp_path, marker):
    """A SavedModel that looks like a Keras 2 model (its keras_metadata.pb and
    its variables, copied from a real one) and holds a resource whose
    initializer writes `marker` when the SavedModel is loaded."""
    import tensorflow as tf

    original = os.path.join(MODEL_DIR, "saved_model")
    values = migrate.keras2._saved_model_variables(original)

    class Trap(tf.saved_model.experimental.TrackableResource):
        def _create_resource(self):
            return tf.raw_ops.VarHandleOp(dtype=tf.float32, shape=[])

        def _initialize(self):
            tf.io.write_file(marker, "ran")
            return tf.raw_ops.AssignVariableOp(resource=self.resource_handle, value=1.0)

    root = tf.__internal__.tracking.AutoTrackable()
    root.variables = [tf.Variable(v) for v in values]
    root.trap = Trap()
    path = str(tmp_path / "crafted")
    tf.saved_model.save(root, path)
    shutil.copy(os.path.join(original, "keras_metadata.pb"), path)
    if os.path.exists(marker):
        os.remove(marker)  # saving ran the initializer once; loading must not
    return path


def test_a_saved_models_initializers_never_run(tmp_path, capsys):
    import tensorflow as tf

    marker = str(tmp_path / "marker.txt")
    path = crafted_saved_model(tmp_path, marker)
    tf.saved_model.load(path)  # the threat is real: loading it runs the trap
    assert os.path.exists(marker)
    os.remove(marker)

    code, err = run_main(capsys, path, tmp_path / "new.keras")
    assert code == 0, err
    assert not os.path.exists(marker)
    import keras

    predictions_match(keras.models.load_model(tmp_path / "new.keras"))


def test_a_lambda_layers_code_never_runs(tmp_path, capsys):
    """A Keras 2 `.h5` whose config holds a Lambda with Python bytecode (which
    would run while the model is rebuilt) is refused: Keras's safe mode."""
    import h5py

    marker = str(tmp_path / "lambda-ran.txt")
    code = (lambda x: (pathlib.Path(marker).write_text("ran"), x)[1]).__code__
    path = tmp_path / "lambda.h5"
    shutil.copy(H5, path)
    with h5py.File(path, "r+") as f:
        config = json.loads(f.attrs["model_config"])
        layers, (output,) = config["config"]["layers"], config["config"]["output_layers"]
        layers.append(
            {
                "class_name": "Lambda",
                "config": {
                    "name": "trap",
                    "function": [base64.b64encode(marshal.dumps(code)).decode("ascii"), None, [marker]],
                    "function_type": "lambda",
                    "module": "__main__",
                    "output_shape": None,
                    "output_shape_type": "raw",
                    "arguments": {},
                },
                "name": "trap",
                "inbound_nodes": [[[output[0], 0, 0, {}]]],
            }
        )
        config["config"]["output_layers"] = [["trap", 0, 0]]
        f.attrs["model_config"] = json.dumps(config)
    code_, err = run_main(capsys, path, tmp_path / "new.keras")
    assert_one_error_line(code_, err)
    assert "'trap' is a Lambda" in err and "safe mode" in err
    assert not os.path.exists(marker) and not os.path.exists(tmp_path / "new.keras")


def test_a_keras3_lambda_is_refused_by_keras_safe_mode(tmp_path, capsys):
    import keras

    marker = str(tmp_path / "lambda-ran.txt")
    model = keras.Sequential([keras.Input((3,)), keras.layers.Lambda(lambda x: (open(marker, "w").close(), x)[1])])
    model.save(tmp_path / "lambda.keras")
    os.remove(marker)  # building the model above ran it once; loading must not
    code, err = run_main(capsys, tmp_path / "lambda.keras", tmp_path / "new.keras")
    assert_one_error_line(code, err)
    assert "safe_mode" in err
    assert not os.path.exists(marker) and not os.path.exists(tmp_path / "new.keras")


def test_an_existing_output_is_kept_unless_overwrite(tmp_path, capsys):
    new = tmp_path / "new.keras"
    new.write_text("keep me")
    code, err = run_main(capsys, H5, new)
    assert_one_error_line(code, err)
    assert "--overwrite" in err and new.read_text() == "keep me"
    code, err = run_main(capsys, H5, new, "--overwrite")
    assert code == 0, err
    import keras

    predictions_match(keras.models.load_model(new))


def test_the_input_is_never_the_output(tmp_path, capsys):
    import keras

    old = tmp_path / "model.keras"
    assert migrate.main([H5, str(old)]) == 0
    before = old.read_bytes()
    for argv in ([old, old, "--overwrite"], [old, tmp_path / "." / "model.keras", "--overwrite"]):
        code, err = run_main(capsys, *argv)
        assert_one_error_line(code, err)
        assert "input itself" in err
    link = tmp_path / "link.keras"
    link.symlink_to(old)
    code, err = run_main(capsys, old, link, "--overwrite")
    assert_one_error_line(code, err)
    assert old.read_bytes() == before
    keras.models.load_model(old)


def test_a_symlink_in_place_of_the_target_is_replaced_not_written_through(tmp_path, capsys):
    victim = tmp_path / "victim.txt"
    victim.write_text("precious")
    link = tmp_path / "new.keras"
    link.symlink_to(victim)
    code, err = run_main(capsys, H5, link)
    assert_one_error_line(code, err)  # exists: refused without --overwrite
    code, err = run_main(capsys, H5, link, "--overwrite")
    assert code == 0, err
    assert victim.read_text() == "precious"
    assert not link.is_symlink() and link.is_file()


def test_a_failed_write_leaves_no_file_and_no_temporary(tmp_path, capsys, monkeypatch):
    import keras

    def disk_full(self, *args, **kwargs):
        with open(args[0], "wb") as f:
            f.write(b"half")
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(keras.Model, "save", disk_full)
    code, err = run_main(capsys, H5, tmp_path / "new.keras")
    assert_one_error_line(code, err)
    assert "No space left on device" in err
    assert os.listdir(tmp_path) == []


@pytest.mark.parametrize(
    "make_new, message",
    [
        (lambda tmp: tmp / "missing-folder" / "new.keras", "does not exist"),
        (lambda tmp: (tmp / "dir.keras").mkdir() or tmp / "dir.keras", "is a directory"),
        (lambda tmp: tmp / "new.h5", "must end in .keras"),
    ],
    ids=["missing-folder", "output-is-a-directory", "not-keras"],
)
def test_bad_outputs_are_one_error_line(tmp_path, capsys, make_new, message):
    code, err = run_main(capsys, H5, make_new(tmp_path))
    assert_one_error_line(code, err)
    assert message in err


@pytest.mark.parametrize(
    "make_old, message",
    [
        (lambda tmp: tmp / "missing.h5", "does not exist"),
        (lambda tmp: (tmp / "notes.h5").write_text("not a model") and tmp / "notes.h5", "neither"),
        (lambda tmp: tmp, "not a SavedModel"),
        (
            lambda tmp: (tmp / "cut.keras").write_bytes(pathlib.Path(H5).read_bytes()[:3000]) and tmp / "cut.keras",
            "cut.keras",
        ),
    ],
    ids=["missing", "not-a-model", "plain-directory", "truncated"],
)
def test_unreadable_inputs_are_one_error_line(tmp_path, capsys, make_old, message):
    out = tmp_path / "out"
    out.mkdir()
    code, err = run_main(capsys, make_old(tmp_path), out / "new.keras")
    assert_one_error_line(code, err)
    assert message in err
    assert os.listdir(out) == []


def test_command_runs_without_warnings_and_is_installed(tmp_path):
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    module = subprocess.run(
        [sys.executable, "-W", "error::RuntimeWarning", "-m", "tensorflow_lnrnn.migrate", "--help"],
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
    )
    assert module.returncode == 0, module.stderr[-2000:]
    assert "RuntimeWarning" not in module.stderr and "--overwrite" in module.stdout
    script = shutil.which("lnrnn-migrate") or os.path.join(os.path.dirname(sys.executable), "lnrnn-migrate")
    assert os.path.exists(script), "the lnrnn-migrate console script is not installed (pip install .)"
    result = subprocess.run(
        [script, str(tmp_path / "missing.h5"), str(tmp_path / "new.keras")],
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
    )
    assert result.returncode == 2
    assert [line[:7] for line in _ours(result.stderr)] == ["error: "], result.stderr
