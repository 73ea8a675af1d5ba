"""The Bazel BUILD files declare one py_test per test module.

`tests/BUILD` globs `**/*_test.py`; this checks that the glob pattern, the
macro and the modules agree, without needing Bazel (CI also runs
`bazel query 'tests(//...)'` when Bazel is installed).
"""

import glob
import os

TESTS_DIR = os.path.dirname(os.path.abspath(__file__))


def test_every_test_module_matches_the_build_glob():
    with open(os.path.join(TESTS_DIR, "BUILD")) as f:
        build = f.read()
    assert 'glob(["**/*_test.py"])' in build
    modules = glob.glob(os.path.join(TESTS_DIR, "**", "*.py"), recursive=True)
    for module in modules:
        # pytest also collects test_*.py, which the BUILD glob would miss.
        assert not os.path.basename(module).startswith("test_"), f"{module}: name it *_test.py"


def test_every_helper_module_is_in_the_helpers_library():
    with open(os.path.join(TESTS_DIR, "BUILD")) as f:
        build = f.read()
    for module in glob.glob(os.path.join(TESTS_DIR, "**", "*.py"), recursive=True):
        relative = os.path.relpath(module, TESTS_DIR)
        if not relative.endswith("_test.py") and relative != "run_pytest.py":
            assert f'"{relative}"' in build, f"{relative} missing from :helpers"
