"""The README's demo really trains: it beats predicting the mean by far."""

import importlib.util
import os

EXAMPLE = os.path.join(os.path.dirname(__file__), "..", "examples", "adding_problem.py")


def test_adding_problem_demo_learns():
    spec = importlib.util.spec_from_file_location("adding_problem", EXAMPLE)
    demo = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(demo)
    test_mse, baseline = demo.main(["--epochs", "8"])
    assert baseline > 0.1
    assert test_mse < baseline / 5
