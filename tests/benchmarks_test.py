"""The benchmark script runs end to end (on a tiny size) and writes its reports.

Timings are not asserted here (machines are noisy); `benchmarks/check_test.py`,
run separately in CI, asserts generous bounds on real sizes.
"""

import importlib.util
import json
import os
import subprocess
import sys

import pytest

from tensorflow_lnrnn.utils.compat import IS_KERAS_3
from tests.conftest import BACKEND

BENCHMARK = os.path.join(os.path.dirname(__file__), "..", "benchmarks", "rnn_benchmark.py")


def load_benchmark():
    spec = importlib.util.spec_from_file_location("rnn_benchmark", BENCHMARK)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_benchmark_writes_json_chart_and_table(tmp_path, capsys):
    """On the running backend (`--backend`: the same code path as a run with KERAS_BACKEND)."""
    report = load_benchmark().main(["--sizes", "tiny", "--repeats", "2", "--warmup", "1", "--out", str(tmp_path)])
    rows = report["results"]
    assert {(r["family"], r["mode"]) for r in rows} == {
        (f, m) for f in ("lstm", "gru", "simple_rnn") for m in ("train", "infer")
    }
    for row in rows:
        for variant in ("ours", "rnn_cell", "keras"):
            assert len(row[variant]["samples_ms"]) == 2 and row[variant]["median_ms"] > 0
        assert row["ours_over_keras"] == row["ours"]["median_ms"] / row["keras"]["median_ms"]
        for variant in ("ours", "rnn_cell", "keras"):  # one loop forward, one backward when training
            ops = row[variant]["loop_ops_per_step"]
            if BACKEND != "tensorflow":  # read from TF graphs only
                assert ops == {}
                continue
            assert set(ops) == ({"forward", "backward"} if row["mode"] == "train" else {"forward"}), (variant, ops)
            assert all(n > 5 for n in ops.values())
    name = "cpu" if BACKEND == "tensorflow" else f"cpu_{BACKEND}"
    saved = json.loads((tmp_path / f"{name}.json").read_text())
    assert saved["machine"]["backend"] == BACKEND and saved["results"] == rows
    assert (tmp_path / f"{name}.png").stat().st_size > 1000
    out = capsys.readouterr()
    assert "| lstm | tiny | train |" in out.out
    assert "[1/3] lstm tiny" in out.err  # progress


@pytest.mark.tensorflow_backend
def test_dynamic_shapes_trace_the_steps_with_the_batch_and_length_unknown(tmp_path):
    """`--dynamic-shapes`: the steps are traced with the batch and the length
    left unknown (the layers see no static length), and the report says so."""
    module = load_benchmark()
    layer = module.make_layer("ours", "lstm", 4)
    steps = module.make_steps(layer, module.SIZES["tiny"], dynamic_shapes=True)
    (x, _), _ = steps["train"].get_concrete_function().structured_input_signature
    assert x.shape.as_list() == [None, None, module.SIZES["tiny"]["input"]]
    report = module.main(["--dynamic-shapes", "--families", "gru", "--sizes", "tiny", "--repeats", "1", "--warmup",
                          "1", "--out", str(tmp_path), "--no-plot"])  # fmt: skip
    assert {row["mode"] for row in report["results"]} == {"train", "infer"}
    assert os.path.exists(tmp_path / "cpu_dynamic.json")


@pytest.mark.slow  # a process of its own (~20 s)
def test_backend_flag_chooses_the_backend_before_keras_is_imported(tmp_path):
    other = next((b for b in ("jax", "torch") if b != BACKEND and importlib.util.find_spec(b)), None)
    if other is None or not IS_KERAS_3:
        pytest.skip("needs Keras 3 and another backend installed")
    command = [sys.executable, BENCHMARK, "--backend", other, "--families", "lstm", "--sizes", "tiny"]
    command += ["--repeats", "1", "--warmup", "1", "--no-plot", "--out", str(tmp_path)]
    subprocess.run(command, check=True, timeout=300, env={**os.environ, "KERAS_BACKEND": BACKEND})
    saved = json.loads((tmp_path / f"cpu_{other}.json").read_text())
    assert saved["machine"]["backend"] == other
    assert {r["mode"] for r in saved["results"]} == {"train", "infer"}


@pytest.mark.tensorflow_backend
def test_the_hoisted_weight_gradients_prototype_computes_the_same_gradients():
    """benchmarks/weight_gradient_probe.py (a lever measured in docs/performance.md)
    times a rewrite of the gradients: it must first compute the same ones."""
    path = os.path.join(os.path.dirname(BENCHMARK), "weight_gradient_probe.py")
    spec = importlib.util.spec_from_file_location("weight_gradient_probe", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    report = module.main(["--size", "tiny", "--repeats", "1"])
    assert len(report["differences"]) == 7 and max(report["differences"]) < 1e-5


@pytest.mark.tensorflow_backend
def test_the_loop_plan_benchmark_times_the_forced_plans():
    """benchmarks/loop_plan_ab.py (how the plan rule was chosen): each plan is
    the one traced (two lanes: a longer loop body), and the rule is restored."""
    from tensorflow_lnrnn.rnn import tf_fast_path

    chosen = tf_fast_path.loop_plan
    path = os.path.join(os.path.dirname(BENCHMARK), "loop_plan_ab.py")
    spec = importlib.util.spec_from_file_location("loop_plan_ab", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    plans = "1,none;2,none;1,none,8;1,none,none,2;1,none,none,2,chunk"
    (row,) = module.main(
        ["--plans", plans, "--families", "lstm", "--sizes", "tiny", "--repeats", "1", "--mode", "train"]
    )
    assert set(row["median_ms"]) == {*plans.split(";"), "keras"} and min(row["median_ms"].values()) > 0
    assert row["ops"]["2,none"]["forward"] > row["ops"]["1,none"]["forward"]
    assert row["ops"]["1,none,8"] != row["ops"]["1,none"]  # (the Gram matrix's matmuls)
    # Two steps per iteration: a body about twice as long (tiny: 5 steps, one left over, outside the loop).
    assert row["ops"]["1,none,none,2"]["forward"] > 1.5 * row["ops"]["1,none"]["forward"]
    # An iteration's input parts at once: one projection and normalization, not two.
    assert row["ops"]["1,none,none,2,chunk"]["forward"] < row["ops"]["1,none,none,2"]["forward"]
    assert tf_fast_path.loop_plan is chosen


@pytest.mark.tensorflow_backend
def test_the_fast_path_ab_benchmark_loads_the_other_checkouts_modules(monkeypatch):
    """benchmarks/fast_path_ab.py against this checkout itself (an A/A run):
    the other fast path runs on its own copies of the modules it imports from
    the package (so that a change to any of them can be timed), the same
    graph, and the package's modules are left in place."""
    import tensorflow_lnrnn.rnn as package
    from tensorflow_lnrnn.rnn import fused_steps, tf_array_ops, tf_fast_path, tf_hoisted_gradients

    path = os.path.join(os.path.dirname(BENCHMARK), "fast_path_ab.py")
    spec = importlib.util.spec_from_file_location("fast_path_ab", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    checkout = os.path.join(os.path.dirname(__file__), "..")
    other_run = module.load_other(checkout)
    other_globals = vars(other_run.module)  # (the other checkout's tf_fast_path)
    assert other_globals["TFArrayOps"] is not tf_array_ops.TFArrayOps
    assert other_globals["fused_steps"] is not fused_steps
    assert other_globals["tf_hoisted_gradients"] is not tf_hoisted_gradients
    assert (package.fused_steps, package.tf_array_ops) == (fused_steps, tf_array_ops)
    assert sys.modules["tensorflow_lnrnn.rnn.tf_hoisted_gradients"] is tf_hoisted_gradients

    rows = module.main(["--other", checkout, "--families", "gru", "--sizes", "4x5x3x4", "--repeats", "1"])
    assert [row["mode"] for row in rows] == ["train", "infer"]
    for row in rows:
        assert row["ops"]["this"] == row["ops"]["other"] and row["ops"]["this"]
        assert min(row["median_ms"].values()) > 0
    assert tf_fast_path.run.__module__ == "tensorflow_lnrnn.rnn.tf_fast_path"


@pytest.mark.tensorflow_backend
def test_loop_op_counts_leave_out_ops_that_reach_no_output():
    """A loop body's op that no output depends on is pruned by TensorFlow
    before the body runs (autodiff leaves such ops: an input's gradient where
    the input needs none), so the per-step figure does not count it."""
    import tensorflow as tf

    count = load_benchmark().loop_op_counts

    def loop(with_dead_op):
        @tf.function
        def run(x, kernel):
            def body(i, v):
                if with_dead_op:
                    tf.matmul(v, kernel)  # unused
                return i + 1, tf.tanh(v * 2.0)

            return tf.while_loop(lambda i, v: i < 3, body, (0, x))[1]

        return tf.function(lambda: run(tf.ones((2, 2)), tf.ones((2, 2))))

    live, with_dead = count(loop(False)), count(loop(True))
    assert live == with_dead and live["forward"] == 4  # the two counters' AddV2 (ours, the loop's), Mul, Tanh


def test_the_machine_record_names_the_cpus_family_and_model(tmp_path):
    """Two machines that a hypervisor names alike ("AMD EPYC") are told apart
    by the family and model of Linux's cpuinfo; the first processor's lines
    count, and "model name" is not read as "model"."""
    module = load_benchmark()
    cpuinfo = tmp_path / "cpuinfo"
    one = "processor\t: {0}\nvendor_id\t: AuthenticAMD\ncpu family\t: {1}\nmodel\t\t: {2}\nmodel name\t: AMD EPYC\n\n"
    cpuinfo.write_text(one.format(0, 26, 2) + one.format(1, 25, 1))
    assert module.cpu_model(str(cpuinfo)) == {"family": "26", "model": "2", "name": "AMD EPYC"}
    assert module.cpu_model(str(tmp_path / "absent")) == {}
    assert "cpu" in module.machine()


def _spin_in_background(seconds):
    """A thread that keeps one core busy for `seconds`, as the worker threads
    that XLA's CPU runtime leaves spinning after a training step; joined by the caller."""
    import threading
    import time

    def spin():
        end = time.perf_counter() + seconds
        while time.perf_counter() < end:
            pass

    thread = threading.Thread(target=spin)
    thread.start()
    return thread


def test_each_timed_call_waits_until_the_threads_of_the_call_before_it_are_idle():
    """`wait_until_idle` returns only after a busy thread stops (here, 0.15 s of
    spinning), at once on an idle process, and at `max_s` whatever runs; and
    `time_interleaved` waits before every call."""
    module = load_benchmark()
    thread = _spin_in_background(0.15)
    waited = module.wait_until_idle()
    busy_after = thread.is_alive()
    thread.join()
    assert waited >= 0.1 and not busy_after
    assert module.wait_until_idle() < 0.05
    thread = _spin_in_background(1.0)
    waited = module.wait_until_idle(max_s=0.2)
    thread.join()
    assert 0.2 <= waited < 0.5

    events = []
    module.wait_until_idle = lambda: events.append("wait")
    samples = module.time_interleaved({"a": lambda: events.append("a"), "b": lambda: events.append("b")}, 2)
    assert events == ["wait", "a", "wait", "b"] * 2 and {k: len(v) for k, v in samples.items()} == {"a": 2, "b": 2}
