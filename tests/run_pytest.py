"""Runs one test module under pytest: the `main` of every py_test in BUILD.

python tests/run_pytest.py rnn/cell_behaviour_test.py
"""

import os
import sys

import pytest

if __name__ == "__main__":
    tests_dir = os.path.dirname(os.path.abspath(__file__))
    root = os.path.dirname(tests_dir)
    sys.path.insert(0, root)
    code = pytest.main([os.path.join(tests_dir, sys.argv[1]), "-q", "-p", "no:cacheprovider"])
    # A module skipped whole where it does not apply (e.g. Addons parity on
    # Keras 3) collects no test: pytest says 5, which is not a failure here.
    sys.exit(0 if code == pytest.ExitCode.NO_TESTS_COLLECTED else code)
