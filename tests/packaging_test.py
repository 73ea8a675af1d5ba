"""The package's metadata and its import-time check of Keras, as a stranger
installing it from the index would meet them."""

import importlib.metadata
import os
import subprocess
import sys
import textwrap

import pytest

import tensorflow_lnrnn

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def test_version_is_read_from_one_place():
    assert importlib.metadata.version("tensorflow-lnrnn") == tensorflow_lnrnn.__version__


def test_metadata_requires_no_tensorflow_and_offers_it_as_extras():
    metadata = importlib.metadata.metadata("tensorflow-lnrnn")
    requirements = metadata.get_all("Requires-Dist")
    unconditional = [r for r in requirements if "extra ==" not in r]
    assert not any(r.startswith(("tensorflow", "keras")) for r in unconditional), unconditional
    for extra in ("tensorflow", "tensorflow-cpu"):
        assert any(r.startswith(f"{extra}>=2.13") and f'extra == "{extra}"' in r for r in requirements), extra


def test_typed_and_console_script_installed():
    assert os.path.exists(os.path.join(os.path.dirname(tensorflow_lnrnn.__file__), "py.typed"))
    scripts = importlib.metadata.entry_points(group="console_scripts")
    assert any(e.name == "lnrnn-migrate" and e.value == "tensorflow_lnrnn.migrate:main" for e in scripts)


BLOCK_IMPORTS = textwrap.dedent(
    """
    import sys

    class Block:
        def find_spec(self, name, path=None, target=None):
            if name.split(".")[0] in {blocked}:
                raise ImportError("blocked: " + name)

    sys.meta_path.insert(0, Block())
    try:
        import tensorflow_lnrnn
    except ImportError as error:
        print(type(error).__name__, error)
    else:
        print("imported")
    """
)


@pytest.mark.parametrize("blocked", [("keras", "tensorflow"), ("keras",)], ids=["no-keras-no-tf", "no-keras"])
def test_without_a_usable_keras_the_import_error_says_what_to_install(blocked):
    result = subprocess.run(
        [sys.executable, "-c", BLOCK_IMPORTS.format(blocked=set(blocked))],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"},
    )
    out = result.stdout.strip()
    if blocked == ("keras",) and "MissingKerasError" not in out:
        # TensorFlow <= 2.15 brings its own Keras 2: importing works there.
        assert out == "imported"
        return
    assert out.startswith("MissingKerasError"), result.stdout + result.stderr[-2000:]
    assert "pip install tensorflow-lnrnn[tensorflow]" in out
