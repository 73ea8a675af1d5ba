"""One py_test per pytest module."""

def pytest_suite(srcs, helpers, data = [], deps = []):
    """Declares a py_test for each `*_test.py` in `srcs`, named after its path.

    Each test runs its module under pytest through `run_pytest.py`, with the
    shared test helpers (`helpers`) and `data` available.
    """
    for src in srcs:
        native.py_test(
            name = src[:-len(".py")],
            srcs = [src, "run_pytest.py"],
            main = "run_pytest.py",
            args = [src],
            data = data,
            python_version = "PY3",
            size = "large",
            deps = deps + helpers,
        )
