"""`examples/deploy.py` (every format and runtime, checked against Keras) and
the deployment benchmark run end to end, at small sizes."""

import importlib.util
import json
import os

import pytest

# slow: conversions of ~10 s each, in the `[deploy]` extra; CI runs them (`-m ""`).
pytestmark = [pytest.mark.tensorflow_backend, pytest.mark.slow]
pytest.importorskip("onnxruntime", reason="pip install -e '.[deploy]'")
pytest.importorskip("ai_edge_litert", reason="pip install -e '.[deploy]'")

ROOT = os.path.join(os.path.dirname(__file__), "..", "..")


def load(path, name):
    spec = importlib.util.spec_from_file_location(name, os.path.join(ROOT, path))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_deploy_example_every_runtime_gives_keras_outputs(tmp_path, capsys):
    rows = load("examples/deploy.py", "deploy").main(
        ["--units", "8", "--time", "6", "--epochs", "1", "--repeats", "3", "--out", str(tmp_path)]
    )
    assert [r["runtime"] for r in rows] == [
        "Keras", "SavedModel (TensorFlow)", "ONNX (onnxruntime)", "LiteRT", "LiteRT float16",
    ]  # fmt: skip
    for row in rows:
        assert row["max_abs_difference"] < (1e-2 if "float16" in row["runtime"] else 1e-4), row
        assert row["latency_ms"] > 0
    assert "| ONNX (onnxruntime) |" in capsys.readouterr().out


def test_deployment_benchmark_writes_its_results(tmp_path, monkeypatch):
    benchmark = load("benchmarks/deployment_benchmark.py", "deployment_benchmark")
    monkeypatch.setattr(benchmark, "REFERENCE", ["--units", "4", "--time", "5", "--epochs", "1"])
    benchmark.main(["--repeats", "2", "--out", str(tmp_path)])
    report = json.loads((tmp_path / "deployment.json").read_text())
    assert len(report["results"]) == 5
