"""Generous timing bounds on the real benchmark sizes (run by CI, not by the
default `pytest`, which only collects tests/):

    python -m pytest benchmarks/check_test.py

Bounds are far looser than the targets in docs/performance.md, so that a noisy
machine passes while a lost fast path (say, back to per-step slicing, several
times slower) fails.
"""

import importlib.util
import os

import pytest

BENCHMARK = os.path.join(os.path.dirname(__file__), "rnn_benchmark.py")


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    spec = importlib.util.spec_from_file_location("rnn_benchmark", BENCHMARK)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    out = tmp_path_factory.mktemp("bench")
    return module.main(["--sizes", "small", "--repeats", "5", "--warmup", "2", "--no-plot", "--out", str(out)])[
        "results"
    ]


def test_ours_within_twice_keras(results):
    for row in results:
        assert row["ours_over_keras"] < 2.0, row


def test_ours_not_slower_than_the_generic_loop(results):
    for row in results:
        assert row["rnn_cell_over_ours"] > 0.9, row
