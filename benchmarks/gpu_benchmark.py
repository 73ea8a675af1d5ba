"""LayerNormLSTM against Keras's LSTM (same backend) and torch.nn.LSTM (cuDNN on
a GPU, no normalization: the speed ceiling), for the GPU machine.

It runs on any Keras 3 backend; the GPU machine has JAX and PyTorch but no
TensorFlow, so there: `KERAS_BACKEND=jax python benchmarks/gpu_benchmark.py`.
Sizes: batch 64/256 x time 100/500 x units 128/512 (input 128), float32 and
bfloat16 (Keras's `mixed_bfloat16` policy; torch autocast), inference and a
training step (forward, backward, SGD update), interleaved, warm-up excluded,
median and interquartile range, ratios to torch's cuDNN LSTM. Writes
`<out>/gpu.json` and prints a markdown table. On a machine without a GPU it
runs on the CPU (use `--quick` for a smoke test).
"""

import argparse
import itertools
import json
import os
import platform
import sys
import time

import numpy as np

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402

import tensorflow_lnrnn as lnrnn  # noqa: E402

FULL = {"batch": (64, 256), "time": (100, 500), "units": (128, 512), "dtype": ("float32", "bfloat16")}
QUICK = {"batch": (4,), "time": (5,), "units": (8,), "dtype": ("float32", "bfloat16")}
INPUT_DIM = 128
MODES = ("infer", "train")


def keras_steps(layer_class, size, dtype):
    """predict_on_batch / train_on_batch of a one-layer model: compiled by the backend."""
    keras.mixed_precision.set_dtype_policy("mixed_bfloat16" if dtype == "bfloat16" else "float32")
    try:
        layer = keras_lstm(size["units"], dtype) if layer_class is keras.layers.LSTM else layer_class(size["units"])
        model = keras.Sequential([keras.Input((size["time"], size["input"])), layer])
        model.compile(optimizer=keras.optimizers.SGD(1e-3), loss="mse")
    finally:
        keras.mixed_precision.set_dtype_policy("float32")
    rng = np.random.default_rng(0)
    x = rng.normal(size=(size["batch"], size["time"], size["input"])).astype("float32")
    y = rng.normal(size=(size["batch"], size["units"])).astype("float32")
    return {"infer": lambda: model.predict_on_batch(x), "train": lambda: model.train_on_batch(x, y)}


def keras_lstm(units, dtype):
    """Keras's LSTM, with cuDNN where its backend takes it. JAX's cuDNN LSTM
    (`jax.experimental.rnn`) has no bfloat16 (measured on the H200: "Unknown
    output type bfloat16"), so in bfloat16 on JAX it runs its generic loop."""
    if dtype == "bfloat16" and keras.backend.backend() == "jax":
        return keras.layers.LSTM(units, use_cudnn=False)
    return keras.layers.LSTM(units)


def torch_steps(size, dtype):
    """torch.nn.LSTM (cuDNN on a GPU), or None where torch is not installed."""
    try:
        import torch
    except ImportError:
        return None
    device = "cuda" if torch.cuda.is_available() else "cpu"
    lstm = torch.nn.LSTM(size["input"], size["units"], batch_first=True).to(device)
    optimizer = torch.optim.SGD(lstm.parameters(), lr=1e-3)
    x = torch.randn(size["batch"], size["time"], size["input"], device=device)
    y = torch.randn(size["batch"], size["units"], device=device)
    autocast = torch.autocast(device, dtype=torch.bfloat16, enabled=dtype == "bfloat16")

    def synchronize(result):
        if device == "cuda":
            torch.cuda.synchronize()
        return result

    def infer():
        with torch.no_grad(), autocast:
            return synchronize(lstm(x)[1][0])

    def train():
        optimizer.zero_grad()
        with autocast:
            loss = ((lstm(x)[1][0][0].float() - y) ** 2).mean()
        loss.backward()
        optimizer.step()
        return synchronize(loss)

    try:
        infer()
    except RuntimeError as error:
        # torch's CPU LSTM in bfloat16 is oneDNN's, which needs a CPU with
        # bfloat16 instructions (it fails on the AMD EPYC dev machine): the
        # row then has no torch column, as where torch is not installed.
        print(f"torch.nn.LSTM does not run in {dtype} on {device}: {error}", file=sys.stderr)
        return None
    return {"infer": infer, "train": train}


def time_call(function):
    start = time.perf_counter()
    result = function()
    keras.ops.convert_to_numpy(result) if not hasattr(result, "detach") else result.detach().cpu()
    return time.perf_counter() - start


def summarize(samples):
    samples = np.asarray(samples) * 1000.0
    q1, median, q3 = np.percentile(samples, [25, 50, 75])
    return {"median_ms": float(median), "iqr_ms": float(q3 - q1)}


def run(grid, repeats, warmup, log):
    results = []
    combos = list(itertools.product(grid["batch"], grid["time"], grid["units"], grid["dtype"]))
    for index, (batch, steps_, units, dtype) in enumerate(combos, start=1):
        size = {
            "batch": batch,
            "time": steps_,
            "input": 3 if grid["batch"] == QUICK["batch"] else INPUT_DIM,
            "units": units,
        }
        log(f"[{index}/{len(combos)}] batch {batch} time {steps_} units {units} {dtype}")
        variants = {
            "ours": keras_steps(lnrnn.LayerNormLSTM, size, dtype),
            "keras_lstm": keras_steps(keras.layers.LSTM, size, dtype),
        }
        torch_variant = torch_steps(size, dtype)
        if torch_variant is not None:
            variants["torch_cudnn_lstm"] = torch_variant
        samples = {(v, m): [] for v in variants for m in MODES}
        for variant, mode in samples:
            for _ in range(warmup):
                time_call(variants[variant][mode])
        for _ in range(repeats):
            for variant, mode in samples:  # interleaved
                samples[(variant, mode)].append(time_call(variants[variant][mode]))
        for mode in MODES:
            row = {**size, "dtype": dtype, "mode": mode}
            for variant in variants:
                row[variant] = summarize(samples[(variant, mode)])
            row["ours_over_keras_lstm"] = row["ours"]["median_ms"] / row["keras_lstm"]["median_ms"]
            if "torch_cudnn_lstm" in row:
                row["ours_over_torch"] = row["ours"]["median_ms"] / row["torch_cudnn_lstm"]["median_ms"]
            results.append(row)
            log(f"    {mode}: " + ", ".join(f"{v} {row[v]['median_ms']:.2f} ms" for v in variants))
    return results


def device_name():
    backend = keras.backend.backend()
    if backend == "jax":
        import jax

        return ", ".join(sorted({d.device_kind for d in jax.devices()}))
    try:
        import torch

        if torch.cuda.is_available():
            return torch.cuda.get_device_name(0)
    except ImportError:
        pass
    return platform.processor() or platform.machine()


def markdown_table(results):
    lines = [
        "| batch | time | units | dtype | mode | ours (ms) | Keras LSTM (ms) | torch cuDNN LSTM (ms) | ours / Keras | ours / torch |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        torch_ms = f"{r['torch_cudnn_lstm']['median_ms']:.2f}" if "torch_cudnn_lstm" in r else "n/a"
        ours_over_torch = f"{r['ours_over_torch']:.2f}" if "ours_over_torch" in r else "n/a"
        lines.append(
            f"| {r['batch']} | {r['time']} | {r['units']} | {r['dtype']} | {r['mode']} | {r['ours']['median_ms']:.2f}"
            f" | {r['keras_lstm']['median_ms']:.2f} | {torch_ms} | {r['ours_over_keras_lstm']:.2f} | {ours_over_torch} |"
        )
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="tiny sizes: a smoke test, e.g. on a CPU")
    parser.add_argument("--repeats", type=int, default=10)
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--out", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "results"))
    for axis in ("batch", "time", "units"):  # a part of the full grid, e.g. the target size first
        parser.add_argument(f"--{axis}", type=int, nargs="+", help=f"only these {axis} sizes")
    parser.add_argument("--dtype", nargs="+", choices=FULL["dtype"], help="only these dtypes")
    args = parser.parse_args(argv)
    grid = QUICK if args.quick else FULL
    chosen = {axis: getattr(args, axis) for axis in FULL if getattr(args, axis)}
    if chosen:
        grid = {**grid, **{axis: tuple(values) for axis, values in chosen.items()}}

    def log(message):
        print(message, file=sys.stderr, flush=True)

    results = run(grid, args.repeats, args.warmup, log)
    report = {
        "machine": {
            "device": device_name(),
            "backend": keras.backend.backend(),
            "keras": keras.__version__,
            "python": sys.version.split()[0],
        },
        "command": " ".join(["python", "benchmarks/gpu_benchmark.py", *sys.argv[1:]]),
        "results": results,
    }
    os.makedirs(args.out, exist_ok=True)
    with open(os.path.join(args.out, "gpu.json"), "w") as f:
        json.dump(report, f, indent=1)
    print(markdown_table(results))
    return report


if __name__ == "__main__":
    main()
