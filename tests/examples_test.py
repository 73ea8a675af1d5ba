"""The examples run: the README's demo really trains (it beats predicting the
mean by far), and the "does it help?" comparison writes its table and curves."""

import importlib.util
import json
import os

import pytest

EXAMPLES = os.path.join(os.path.dirname(__file__), "..", "examples")


def load_example(name):
    spec = importlib.util.spec_from_file_location(name, os.path.join(EXAMPLES, f"{name}.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_adding_problem_demo_learns():
    demo = load_example("adding_problem")
    test_mse, baseline = demo.main(["--epochs", "8"])
    assert baseline > 0.1
    assert test_mse < baseline / 5


@pytest.mark.slow  # trains 10 models (CI runs it)
def test_does_it_help_compares_every_convention(tmp_path):
    comparison = load_example("does_it_help")
    args = ["--steps", "8", "--samples", "64", "--epochs", "2", "--seeds", "2", "--no-plot", "--out", str(tmp_path)]
    results = comparison.main(args)
    assert set(results) == set(comparison.VARIANTS)
    assert all(len(runs) == 2 and all(len(run["curve"]) == 2 for run in runs) for runs in results.values())
    with open(tmp_path / "does_it_help.json") as f:
        record = json.load(f)
    for label, _ in comparison.VARIANTS.values():
        assert f"| {label} |" in record["table"]
