"""One py_test per pytest module."""

def pytest_suite(srcs, helpers, data = [], deps = [], long_prefixes = []):
    """Declares a py_test for each `*_test.py` in `srcs`, named after its path.

    Each test runs its module under pytest through `run_pytest.py`, with the
    shared test helpers (`helpers`) and `data` available. Modules whose path
    starts with one of `long_prefixes` are tagged "pytest_only": CI runs them
    under pytest and leaves them out of `bazel test` with
    `--test_tag_filters=-pytest_only`. (Not "long": Bazel matches tag filters
    against the timeout too, and size "large" implies timeout "long".)
    """
    for src in srcs:
        tags = ["pytest_only"] if [p for p in long_prefixes if src.startswith(p)] else []
        native.py_test(
            name = src[:-len(".py")],
            srcs = [src, "run_pytest.py"],
            main = "run_pytest.py",
            args = [src],
            data = data,
            python_version = "PY3",
            size = "large",
            tags = tags,
            deps = deps + helpers,
        )
