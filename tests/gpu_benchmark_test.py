"""The GPU benchmark mode is ready: it runs end to end on the CPU (tiny sizes),
on whichever Keras 3 backend this run uses, with torch's LSTM where installed."""

import importlib.util
import json
import os

import pytest

from tensorflow_lnrnn.utils.compat import IS_KERAS_3

pytestmark = pytest.mark.skipif(not IS_KERAS_3, reason="the GPU mode targets Keras 3 backends")
BENCHMARK = os.path.join(os.path.dirname(__file__), "..", "benchmarks", "gpu_benchmark.py")


def test_gpu_benchmark_quick_mode_on_cpu(tmp_path, capsys):
    spec = importlib.util.spec_from_file_location("gpu_benchmark", BENCHMARK)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    report = module.main(["--quick", "--repeats", "2", "--warmup", "1", "--out", str(tmp_path)])
    rows = report["results"]
    assert {(r["dtype"], r["mode"]) for r in rows} == {
        (d, m) for d in ("float32", "bfloat16") for m in ("infer", "train")
    }
    with_torch = importlib.util.find_spec("torch") is not None
    for row in rows:
        assert row["ours"]["median_ms"] > 0 and row["keras_lstm"]["median_ms"] > 0
        # (torch's bfloat16 LSTM on a CPU needs bfloat16 instructions: `torch_steps`.)
        torch_runs = with_torch and (row["dtype"] == "float32" or module.torch_steps(row, row["dtype"]) is not None)
        assert ("ours_over_torch" in row) == torch_runs
    assert json.loads((tmp_path / "gpu.json").read_text())["results"] == rows
    assert "| 4 | 5 | 8 | float32 | infer |" in capsys.readouterr().out


def test_gpu_benchmark_runs_a_chosen_part_of_the_grid(tmp_path):
    spec = importlib.util.spec_from_file_location("gpu_benchmark", BENCHMARK)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    report = module.main(
        ["--quick", "--repeats", "1", "--warmup", "0", "--units", "6", "--dtype", "float32", "--out", str(tmp_path)]
    )
    assert {(r["units"], r["dtype"]) for r in report["results"]} == {(6, "float32")}
