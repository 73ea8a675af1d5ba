"""Train a small layer-normalized LSTM, export it to every format, run it in every
runtime, and check each against Keras.

    python examples/deploy.py [--units 32] [--time 30] [--epochs 2] [--repeats 50]

Formats and runtimes: the Keras model itself; a SavedModel (`model.export`,
what TF Serving loads) in TensorFlow; ONNX (`model.export(format="onnx")`) in
onnxruntime; LiteRT with built-in ops only, float32 and float16-quantized, in
`ai_edge_litert`. Prints a table: each runtime's largest difference from
Keras, the size on disk and the median latency of one sequence (batch 1) on
this machine's CPU. Needs `pip install "tensorflow-lnrnn[deploy]"`.
"""

import argparse
import os
import sys
import tempfile
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import numpy as np  # noqa: E402
from adding_problem import adding_problem  # noqa: E402

import tensorflow_lnrnn as lnrnn  # noqa: E402
from tensorflow_lnrnn.utils.compat import keras  # noqa: E402


def train(units, steps, epochs, rng):
    inputs, targets = adding_problem(2048, steps, rng)
    model = keras.Sequential(
        [keras.Input((None, 2)), keras.layers.Masking(), lnrnn.LayerNormLSTM(units), keras.layers.Dense(1)]
    )
    model.compile(optimizer=keras.optimizers.Adam(3e-3), loss="mse")
    model.fit(inputs, targets, batch_size=64, epochs=epochs, verbose=0)
    return model


def size_on_disk(path):
    if os.path.isfile(path):
        return os.path.getsize(path)
    return sum(os.path.getsize(os.path.join(root, name)) for root, _, names in os.walk(path) for name in names)


def runtimes(model, out):
    """{name: (path on disk, a function from a batch to the model's output)}."""
    import onnxruntime
    import tensorflow as tf
    from ai_edge_litert.interpreter import Interpreter

    result = {"Keras": (None, lambda x: model.predict_on_batch(x))}

    saved = os.path.join(out, "saved_model")
    model.export(saved, verbose=False)
    exported = tf.saved_model.load(saved)
    result["SavedModel (TensorFlow)"] = (saved, lambda x: exported.serve(tf.constant(x)).numpy())

    onnx_path = os.path.join(out, "model.onnx")
    model.export(onnx_path, format="onnx", verbose=False)
    session = onnxruntime.InferenceSession(onnx_path, providers=["CPUExecutionProvider"])
    onnx_input = session.get_inputs()[0].name
    result["ONNX (onnxruntime)"] = (onnx_path, lambda x: session.run(None, {onnx_input: x})[0])

    for name, float16 in (("LiteRT", False), ("LiteRT float16", True)):
        converter = tf.lite.TFLiteConverter.from_keras_model(model)
        converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS]
        if float16:
            converter.optimizations = [tf.lite.Optimize.DEFAULT]
            converter.target_spec.supported_types = [tf.float16]
        path = os.path.join(out, f"{name.replace(' ', '_')}.tflite")
        with open(path, "wb") as f:
            f.write(converter.convert())
        result[name] = (path, litert_runner(Interpreter(model_path=path)))
    return result


def litert_runner(interpreter):
    (detail,) = interpreter.get_input_details()
    shape = [None]

    def run(x):
        if shape[0] != x.shape:  # resize only when the batch or length changes
            interpreter.resize_tensor_input(detail["index"], list(x.shape))
            interpreter.allocate_tensors()
            shape[0] = x.shape
        interpreter.set_tensor(detail["index"], x)
        interpreter.invoke()
        return interpreter.get_tensor(interpreter.get_output_details()[0]["index"])

    return run


def median_latency_ms(run, x, repeats):
    run(x)  # warm-up
    samples = []
    for _ in range(repeats):
        start = time.perf_counter()
        run(x)
        samples.append(time.perf_counter() - start)
    return 1000.0 * float(np.median(samples))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--units", type=int, default=32)
    parser.add_argument("--time", type=int, default=30)
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=50)
    parser.add_argument("--out", help="where to write the exported files (default: a temporary folder)")
    args = parser.parse_args(argv)

    rng = np.random.default_rng(0)
    model = train(args.units, args.time, args.epochs, rng)
    test_inputs, _ = adding_problem(64, args.time, rng)
    expected = model.predict(test_inputs, verbose=0)
    out = args.out or tempfile.mkdtemp(prefix="deploy-")
    rows = []
    for name, (path, run) in runtimes(model, out).items():
        difference = max(float(np.abs(run(batch) - expected[i : i + len(batch)]).max())
                         for i, batch in ((0, test_inputs), (0, test_inputs[:1])))  # fmt: skip
        size = size_on_disk(path) / 1024 if path else None
        rows.append({"runtime": name, "max_abs_difference": difference, "size_kib": size,
                     "latency_ms": median_latency_ms(run, test_inputs[:1], args.repeats)})  # fmt: skip
    print(f"LayerNormLSTM({args.units}) + Dense on the adding problem, time {args.time}; latency: batch 1, CPU")
    print("| runtime | max abs difference from Keras | size (KiB) | latency (ms) |")
    print("|---|---|---|---|")
    for row in rows:
        size = f"{row['size_kib']:.0f}" if row["size_kib"] is not None else "-"
        print(f"| {row['runtime']} | {row['max_abs_difference']:.1e} | {size} | {row['latency_ms']:.2f} |")
    return rows


if __name__ == "__main__":
    main()
