"""Every ```python block in README.md and docs/ runs as written."""

import glob
import os
import re

import pytest

from tensorflow_lnrnn.utils.compat import IS_KERAS_3

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PAGES = [os.path.join(ROOT, "README.md")] + sorted(glob.glob(os.path.join(ROOT, "docs", "*.md")))
BLOCKS = [
    pytest.param(block, id=f"{os.path.relpath(page, ROOT)}-{i}")
    for page in PAGES
    for i, block in enumerate(re.findall(r"```python\n(.*?)```", open(page).read(), re.S))
]


# The examples are written for Keras 3 (`import keras`); under Keras 2 the same
# code runs with `from tensorflow import keras`.
pytestmark = pytest.mark.skipif(not IS_KERAS_3, reason="docs examples use Keras 3")


def test_docs_have_examples():
    assert len(BLOCKS) >= 3


@pytest.mark.parametrize("block", BLOCKS)
def test_python_block_runs(block):
    exec(compile(block, "<docs>", "exec"), {"__name__": "__docs__"})
