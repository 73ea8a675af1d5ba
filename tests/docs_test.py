"""Every ```python block in README.md and docs/ runs as written."""

import glob
import importlib
import os
import pathlib
import re

import pytest

from tensorflow_lnrnn.utils.compat import IS_KERAS_3, keras

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PAGES = [os.path.join(ROOT, "README.md")] + sorted(glob.glob(os.path.join(ROOT, "docs", "*.md")))
BLOCKS = [
    pytest.param(block, id=f"{os.path.relpath(page, ROOT)}-{i}")
    for page in PAGES
    for i, block in enumerate(re.findall(r"```python\n(.*?)```", pathlib.Path(page).read_text(), re.S))
]


# The examples are written for Keras 3 (`import keras`); under Keras 2 the same
# code runs with `from tensorflow import keras`.
pytestmark = pytest.mark.skipif(not IS_KERAS_3, reason="docs examples use Keras 3")


def test_docs_have_examples():
    assert len(BLOCKS) >= 3


@pytest.mark.parametrize("block", BLOCKS)
def test_python_block_runs(block):
    runtimes = re.findall(r"^(?:import|from) (onnxruntime|ai_edge_litert)\b", block, re.M)
    for runtime in runtimes:
        pytest.importorskip(runtime, reason="pip install -e '.[deploy]'")
    tensorflow_only = runtimes or re.search(r"^import tensorflow( as tf)?$", block, re.M)
    if tensorflow_only and keras.backend.backend() != "tensorflow":
        pytest.skip("a deployment example for the TensorFlow backend (SavedModel, ONNX, LiteRT)")
    exec(compile(block, "<docs>", "exec"), {"__name__": "__docs__"})


def _public_names():
    import tensorflow_lnrnn
    from tensorflow_lnrnn import activations, migrate
    from tensorflow_lnrnn.utils import test_utils

    names = [
        f"tensorflow_lnrnn.{n}" for n in tensorflow_lnrnn.__all__ if isinstance(getattr(tensorflow_lnrnn, n), type)
    ]
    names += [f"tensorflow_lnrnn.migrate.{n}" for n in migrate.__all__]
    return names, [tensorflow_lnrnn, activations, migrate, test_utils]


def test_every_public_name_is_in_the_generated_api_reference_with_a_docstring():
    api = pathlib.Path(ROOT, "docs", "api.md").read_text()
    names, modules = _public_names()
    for name in names:
        assert f"::: {name}\n" in api, f"{name} is not in docs/api.md"
        module, _, attribute = name.rpartition(".")
        assert getattr(importlib.import_module(module), attribute).__doc__, f"{name} has no docstring"
    for module in ("tensorflow_lnrnn.activations", "tensorflow_lnrnn.utils.test_utils"):
        assert f"::: {module}\n" in api
    for module in modules:
        assert module.__doc__


def test_every_docs_page_is_in_the_site_navigation():
    config = pathlib.Path(ROOT, "mkdocs.yml").read_text()
    pages = sorted(os.path.basename(p) for p in glob.glob(os.path.join(ROOT, "docs", "*.md")))
    assert pages and all(re.search(rf":\s*{re.escape(page)}\s*$", config, re.M) for page in pages), pages
    for page in (
        "user_guide.md",
        "cells.md",
        "migration_from_addons.md",
        "performance.md",
        "deployment.md",
        "design.md",
    ):
        assert page in pages
