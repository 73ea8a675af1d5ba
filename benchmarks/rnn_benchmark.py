"""Side-by-side timings of the layer-normalized layers against Keras's own.

For each cell family (LSTM, GRU, SimpleRNN) and size, in ONE process and
interleaved (one call of each variant per round, so that machine noise hits all
alike), it times a training step (forward, backward, SGD update) and inference:

- `ours`:     LayerNormLSTM / LayerNormGRU / LayerNormSimpleRNN (fast path)
- `rnn_cell`: keras.layers.RNN(LayerNorm*Cell) (the generic per-step loop)
- `keras`:    keras.layers.LSTM / GRU / SimpleRNN (no normalization)

On the TensorFlow backend it also counts, for each variant, the ops in the body
of the time loop that run, forward and backward (read from the compiled step's
graph; Identity, NoOp and Const left out, and the ops that TensorFlow prunes):
a measure of per-step dispatch that machine noise does not move.

`--backend jax|torch` runs the same comparison on another Keras 3 backend
(KERAS_BACKEND is set from it before Keras is imported): on JAX each call is a
`jax.jit`-compiled function of the layer's `stateless_call` (training: value,
gradient and SGD update); on PyTorch, eager calls (inference under `no_grad`).

Warm-up calls are excluded, each timed call waits for the process to be idle
(`wait_until_idle`); it reports median and interquartile range per
variant, and the ratios `ours / keras` (target <= 1.10) and `rnn_cell / ours`
(target >= 1.2). Writes JSON and a bar chart PNG.

    python benchmarks/rnn_benchmark.py [--repeats 15] [--sizes small,large] [--out benchmarks/results]
    python benchmarks/rnn_benchmark.py --backend jax [--sizes small]   # writes cpu_jax.json
    python benchmarks/rnn_benchmark.py --vs-addons   # on TF 2.15 + Addons 0.23: `addons` in place of `rnn_cell`
    python benchmarks/rnn_benchmark.py --dynamic-shapes   # TF: batch and length known only at run time

On TensorFlow the data are arguments of the compiled steps (as in Keras's own
`train_step`), traced with their static shapes, or with `--dynamic-shapes`
with the batch and the length left unknown (a model whose input has no fixed
length, or a padded `tf.data` pipeline): the TF fast path plans its loop from
what is known when it is traced.
"""

import argparse
import json
import os
import platform
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
BACKENDS = ("tensorflow", "jax", "torch")


def _backend_argument(argv):
    """The value of --backend in `argv`, read before Keras is imported."""
    for index, argument in enumerate(argv):
        if argument == "--backend" and index + 1 < len(argv):
            return argv[index + 1]
        if argument.startswith("--backend="):
            return argument.split("=", 1)[1]
    return None


if __name__ == "__main__" and _backend_argument(sys.argv[1:]):
    os.environ["KERAS_BACKEND"] = _backend_argument(sys.argv[1:])

import numpy as np  # noqa: E402

import tensorflow_lnrnn as lnrnn  # noqa: E402
from tensorflow_lnrnn.utils.compat import IS_KERAS_3, keras  # noqa: E402

SIZES = {
    "tiny": {"batch": 4, "time": 5, "input": 3, "units": 4},  # smoke tests only
    "small": {"batch": 64, "time": 100, "input": 32, "units": 128},
    "large": {"batch": 32, "time": 200, "input": 128, "units": 512},
}
FAMILIES = {
    "lstm": (lnrnn.LayerNormLSTM, lnrnn.LayerNormLSTMCell, keras.layers.LSTM),
    "gru": (lnrnn.LayerNormGRU, lnrnn.LayerNormGRUCell, keras.layers.GRU),
    "simple_rnn": (lnrnn.LayerNormSimpleRNN, lnrnn.LayerNormSimpleRNNCell, keras.layers.SimpleRNN),
}
VARIANTS = ("ours", "rnn_cell", "keras")
# --vs-addons (Keras 2 + TensorFlow Addons 0.23): Addons' own cells in keras.layers.RNN.
ADDONS_VARIANTS = ("ours", "addons", "keras")
ADDONS_CELLS = {"lstm": "LayerNormLSTMCell", "simple_rnn": "LayerNormSimpleRNNCell"}
LABELS = {"ours": "ours", "rnn_cell": "RNN(cell)", "addons": "Addons RNN(cell)", "keras": "Keras, no LN"}
MODES = ("train", "infer")


def parse_size(text):
    """A size: a name from `SIZES`, or `BATCHxTIMExINPUTxUNITS`."""
    if text in SIZES:
        return SIZES[text]
    return dict(zip(("batch", "time", "input", "units"), (int(n) for n in text.split("x"))))


def make_layer(variant, family, units):
    layer_class, cell_class, keras_class = FAMILIES[family]
    if variant == "ours":
        return layer_class(units)
    if variant == "rnn_cell":
        return keras.layers.RNN(cell_class(units))
    if variant == "addons":
        import tensorflow_addons as tfa

        return keras.layers.RNN(getattr(tfa.rnn, ADDONS_CELLS[family])(units))
    return keras_class(units)


def backend():
    return keras.backend.backend() if IS_KERAS_3 else "tensorflow"


def make_steps(layer, size, dynamic_shapes=False):
    """Inference and training-step callables for `layer`, compiled as the
    backend compiles a model's steps (tf.function, jax.jit; PyTorch: eager).
    `dynamic_shapes` (TensorFlow): traced with the batch and the length known
    only at run time, as a model whose input has no fixed length is, or one
    fed by a padded `tf.data` pipeline."""
    rng = np.random.default_rng(0)
    x = rng.normal(size=(size["batch"], size["time"], size["input"])).astype("float32")
    y = rng.normal(size=(size["batch"], size["units"])).astype("float32")
    if dynamic_shapes:
        return _tf_steps(layer, x, y, dynamic_shapes=True)
    return {"tensorflow": _tf_steps, "jax": _jax_steps, "torch": _torch_steps}[backend()](layer, x, y)


class _Bound:
    """A compiled step with its arguments bound: called with none, and its
    graph from `get_concrete_function()` (`loop_op_counts`)."""

    def __init__(self, function, *args):
        self.function, self.args = function, args

    def __call__(self):
        return self.function(*self.args)

    def get_concrete_function(self):
        return self.function.get_concrete_function(*self.args)


def _tf_steps(layer, x, y, dynamic_shapes=False):
    import tensorflow as tf

    x, y = tf.constant(x), tf.constant(y)
    layer(x)  # build
    optimizer = keras.optimizers.SGD(1e-3)
    variables = layer.trainable_variables
    # The data are arguments, as in Keras's own compiled steps.
    signature = [
        tf.TensorSpec([None] * (len(t.shape) - 1) + [t.shape[-1]] if dynamic_shapes else t.shape, t.dtype)
        for t in (x, y)
    ]

    @tf.function(input_signature=signature)
    def infer(x, y):
        return layer(x, training=False)

    @tf.function(input_signature=signature)
    def train(x, y):
        with tf.GradientTape() as tape:
            loss = tf.reduce_mean(tf.square(layer(x, training=True) - y))
        gradients = tape.gradient(loss, variables)
        optimizer.apply_gradients(zip(gradients, variables))
        return loss

    return {"infer": _Bound(infer, x, y), "train": _Bound(train, x, y)}


def _jax_steps(layer, x, y):
    import jax
    import jax.numpy as jnp

    x, y = jnp.asarray(x), jnp.asarray(y)
    layer(x)  # build
    trainable = [v.value for v in layer.trainable_variables]
    non_trainable = [v.value for v in layer.non_trainable_variables]

    @jax.jit
    def infer(trainable, non_trainable):
        return layer.stateless_call(trainable, non_trainable, x, training=False)[0]

    def loss(trainable, non_trainable):
        outputs, non_trainable = layer.stateless_call(trainable, non_trainable, x, training=True)
        return jnp.mean(jnp.square(outputs - y)), non_trainable

    @jax.jit
    def train(trainable, non_trainable):
        (value, non_trainable), grads = jax.value_and_grad(loss, has_aux=True)(trainable, non_trainable)
        return value, [w - 1e-3 * g for w, g in zip(trainable, grads)], non_trainable  # SGD

    return {"infer": lambda: infer(trainable, non_trainable), "train": lambda: train(trainable, non_trainable)}


def _torch_steps(layer, x, y):
    import torch

    x, y = torch.as_tensor(x), torch.as_tensor(y)
    layer(x)  # build
    optimizer = keras.optimizers.SGD(1e-3)
    variables = layer.trainable_variables

    def infer():
        with torch.no_grad():
            return layer(x, training=False)

    def train():
        for variable in variables:
            variable.value.grad = None
        loss = torch.mean(torch.square(layer(x, training=True) - y))
        loss.backward()
        optimizer.apply([variable.value.grad for variable in variables], variables)
        return loss.detach()

    return {"infer": infer, "train": train}


# Graph bookkeeping, not work: left out of the per-step op counts.
NOT_COUNTED = ("Identity", "NoOp", "Const")


def steps_per_iteration(variant, family, size, mode, dynamic_shapes=False):
    """Time steps per iteration of the TF fast path's loop (its plan's
    `unroll`: an iteration of an unrolled loop holds that many steps); 1 for
    Keras's loops and on the other backends."""
    if variant != "ours" or backend() != "tensorflow":
        return 1
    from tensorflow_lnrnn.rnn import tf_fast_path

    batch = None if dynamic_shapes else size["batch"]
    training, static_length = mode == "train", not dynamic_shapes
    return tf_fast_path.loop_plan(family, batch, size["units"], training, static_length=static_length).unroll


def loop_op_counts(function, steps_per_iteration=1):
    """Ops per time step in the body of each time loop of a compiled step,
    read from its graph (the ops of an iteration over its
    `steps_per_iteration`): {"forward": n} for inference, plus "backward" for
    a training step. A figure that, unlike timings, does not move with the
    machine's noise. Only the ops that run count (`_live_nodes`). TensorFlow
    only ({} on the other backends)."""
    if not hasattr(function, "get_concrete_function"):
        return {}
    graph = function.get_concrete_function().graph.as_graph_def()
    functions = {f.signature.name: f for f in graph.library.function}

    def loops(nodes):  # (While node name, body function), also inside called functions
        for node in nodes:
            if node.op in ("While", "StatelessWhile"):
                yield node.name, functions[node.attr["body"].func.name]
            else:
                for attribute in ("f", "then_branch", "else_branch"):
                    if attribute in node.attr and node.attr[attribute].func.name in functions:
                        yield from loops(functions[node.attr[attribute].func.name].node_def)

    # Per direction, the largest body: the loop of whole iterations, where an
    # unrolled loop has a second one for the steps left over.
    counts = {}
    for name, body in loops(graph.node):
        direction = "backward" if name.startswith("gradient") or "_grad" in name else "forward"
        counted = sum(node.op not in NOT_COUNTED for node in _live_nodes(body))
        counts[direction] = max(counts.get(direction, 0), counted)
    per_step = {d: n / steps_per_iteration for d, n in counts.items()}
    return {d: int(n) if n == int(n) else round(n, 1) for d, n in per_step.items()}


def _live_nodes(body):
    """The nodes of a function body that TensorFlow runs: those that an
    output of the body (or a stateful op) depends on. It prunes the others
    when it instantiates the function (autodiff leaves some: an input's
    gradient where the input needs none), so they cost no time."""
    from tensorflow.python.framework import op_def_registry

    nodes = {node.name: node for node in body.node_def}
    stateful = [n.name for n in body.node_def if getattr(op_def_registry.get(n.op), "is_stateful", False)]
    pending = [*body.ret.values(), *body.control_ret.values(), *stateful]
    live = set()
    while pending:
        name = pending.pop().lstrip("^").split(":")[0]
        if name in nodes and name not in live:
            live.add(name)
            pending.extend(nodes[name].input)
    return [node for node in body.node_def if node.name in live]


def time_call(function):
    start = time.perf_counter()
    result = function()
    if backend() == "jax":
        import jax

        jax.block_until_ready(result)  # JAX dispatches asynchronously
    else:
        np.asarray(result)  # wait for the value
    return time.perf_counter() - start


def wait_until_idle(window_s=0.005, busy_fraction=0.1, max_s=0.5):
    """Returns once this process's threads have used under `busy_fraction` of
    one core for a `window_s` (or after `max_s`); the seconds it waited.
    Why: on JAX (XLA's CPU runtime) a training step leaves worker threads
    spinning for about 20 ms after it returns (measured: 19 ms of CPU time in
    the 20 ms after a large GRU training step, none after an inference call).
    In a model one compiled step follows another of its own, but here each
    call follows another variant's: without this wait, the call after a
    training step shares the 2 cores with those threads and reads up to 1.5x
    slower, and which variant it is depends only on the order of the round
    (docs/performance.md, "How it is measured")."""
    start = time.perf_counter()
    while time.perf_counter() - start < max_s:
        cpu = time.process_time()
        time.sleep(window_s)
        if time.process_time() - cpu < busy_fraction * window_s:
            break
    return time.perf_counter() - start


def time_interleaved(calls, repeats, after_round=None):
    """{key: [seconds]}: `repeats` rounds, each calling every one of `calls`
    ({key: callable}) once in turn, so that machine noise hits them alike;
    each call starts on an idle process (`wait_until_idle`), so that none
    pays for the threads of the call before it."""
    samples = {key: [] for key in calls}
    for round_ in range(repeats):
        for key, call in calls.items():
            wait_until_idle()
            samples[key].append(time_call(call))
        if after_round:
            after_round(round_)
    return samples


def summarize(samples):
    samples = np.asarray(samples) * 1000.0
    q1, median, q3 = np.percentile(samples, [25, 50, 75])
    return {"median_ms": float(median), "iqr_ms": float(q3 - q1), "samples_ms": samples.round(3).tolist()}


def benchmark(families, sizes, repeats, warmup, log, variants=VARIANTS, dynamic_shapes=False):
    results = []
    total = len(families) * len(sizes)
    for index, (family, size_name) in enumerate(((f, s) for f in families for s in sizes), start=1):
        size = parse_size(size_name)
        log(f"[{index}/{total}] {family} {size_name} {size}: building and warming up")
        steps = {v: make_steps(make_layer(v, family, size["units"]), size, dynamic_shapes) for v in variants}
        for variant in variants:
            for mode in MODES:
                for _ in range(warmup):
                    time_call(steps[variant][mode])
        samples = time_interleaved(
            {(v, m): steps[v][m] for m in MODES for v in variants},
            repeats,
            lambda round_, where=f"[{index}/{total}] {family} {size_name}": log(
                f"{where}: round {round_ + 1}/{repeats}", end="\r"
            ),
        )
        log("")
        for mode in MODES:
            row = {"family": family, "size": size_name, "mode": mode, **size}
            for variant in variants:
                row[variant] = summarize(samples[(variant, mode)])
                unroll = steps_per_iteration(variant, family, size, mode, dynamic_shapes)
                row[variant]["loop_ops_per_step"] = loop_op_counts(steps[variant][mode], unroll)
            row["ours_over_keras"] = row["ours"]["median_ms"] / row["keras"]["median_ms"]
            other = variants[1]  # the layer-normalized loop ours is compared with
            row[f"{other}_over_ours"] = row[other]["median_ms"] / row["ours"]["median_ms"]
            results.append(row)
            log(
                f"    {mode:5s} ours {row['ours']['median_ms']:8.2f} ms | {LABELS[other]} {row[other]['median_ms']:8.2f} ms"
                f" | keras {row['keras']['median_ms']:8.2f} ms | ours/keras {row['ours_over_keras']:.2f}"
                f" | {LABELS[other]}/ours {row[f'{other}_over_ours']:.2f}"
                f" | ops per step (ours / {LABELS[other]} / keras): {ops_per_step(row, 'ours')}"
                f" / {ops_per_step(row, other)} / {ops_per_step(row, 'keras')}"
            )
    return results


def ops_per_step(row, variant):
    """ "forward+backward" ops in the loop bodies of `variant`'s step ("forward" for inference)."""
    counts = row[variant]["loop_ops_per_step"]
    return "+".join(str(counts[d]) for d in ("forward", "backward") if d in counts) or "-"


def cpu_model(cpuinfo="/proc/cpuinfo"):
    """The CPU's model name, family and model from Linux's `cpuinfo` (empty
    elsewhere). A hypervisor may give only a vendor's line ("AMD EPYC"),
    where the family and model still tell the generations apart: timings
    from two machines of the same name are not comparable."""
    fields = {"model name": "name", "cpu family": "family", "model": "model"}
    found = {}
    try:
        with open(cpuinfo) as f:
            for line in f:
                key, _, value = line.partition(":")
                name = fields.get(key.strip())
                if name and name not in found:
                    found[name] = value.strip()
    except OSError:
        pass
    return found


def machine():
    return {
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
        "cpu": cpu_model(),
        "cpus": os.cpu_count(),
        "python": sys.version.split()[0],
        "backend": backend(),
        **{name: _version(name) for name in ("tensorflow", "jax", "torch")},
        "keras": keras.__version__ if hasattr(keras, "__version__") else "",
    }


def _version(module):
    import importlib.util

    if importlib.util.find_spec(module) is None:
        return None
    return __import__(module).__version__


def markdown_table(results, variants=VARIANTS):
    other = LABELS[variants[1]]
    lines = [
        f"| family | size | mode | ours (ms) | {other} (ms) | Keras, no LN (ms) | ours / Keras | {other} / ours"
        f" | loop ops per step, fwd+bwd: ours / {other} / Keras |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        lines.append(
            f"| {r['family']} | {r['size']} | {r['mode']} | {r['ours']['median_ms']:.1f} ± {r['ours']['iqr_ms']:.1f}"
            f" | {r[variants[1]]['median_ms']:.1f} ± {r[variants[1]]['iqr_ms']:.1f}"
            f" | {r['keras']['median_ms']:.1f} ± {r['keras']['iqr_ms']:.1f}"
            f" | {r['ours_over_keras']:.2f} | {r[f'{variants[1]}_over_ours']:.2f}"
            f" | {ops_per_step(r, 'ours')} / {ops_per_step(r, variants[1])} / {ops_per_step(r, 'keras')} |"
        )
    return "\n".join(lines)


def plot(results, path, variants=VARIANTS):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    labels = [f"{r['family']}\n{r['size']}\n{r['mode']}" for r in results]
    positions = np.arange(len(results))
    width = 0.27
    fig, ax = plt.subplots(figsize=(max(8, 1.2 * len(results)), 4.5))
    for offset, variant in zip((-width, 0, width), variants):
        ax.bar(
            positions + offset,
            [r[variant]["median_ms"] / r["keras"]["median_ms"] for r in results],
            width,
            label=LABELS[variant],
        )
    ax.axhline(1.10, color="gray", linestyle="--", linewidth=1, label="target 1.10x Keras")
    ax.set_xticks(positions, labels, fontsize=8)
    ax.set_ylabel("time / Keras's un-normalized layer")
    ax.set_title("Layer-normalized RNNs vs Keras (median, lower is better)")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--families", default=None, help="default: all (lstm,simple_rnn with --vs-addons)")
    parser.add_argument("--sizes", default="small,large", help="names from SIZES or BATCHxTIMExINPUTxUNITS")
    parser.add_argument("--repeats", type=int, default=15)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--out", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "results"))
    parser.add_argument("--no-plot", action="store_true")
    parser.add_argument(
        "--backend", choices=BACKENDS, default=None, help="Keras 3 backend (default: KERAS_BACKEND, else tensorflow)"
    )
    parser.add_argument(
        "--vs-addons",
        action="store_true",
        help="Keras 2 + TensorFlow Addons 0.23 (TF 2.15): compare with Addons' cells in keras.layers.RNN",
    )
    parser.add_argument(
        "--dynamic-shapes",
        action="store_true",
        help="TensorFlow: steps traced with the batch and length known only at run time (writes cpu_dynamic.json)",
    )
    args = parser.parse_args(argv)
    if args.dynamic_shapes and backend() != "tensorflow":
        parser.error("--dynamic-shapes: TensorFlow (Keras 3's TF backend, or Keras 2) only")
    if args.backend and args.backend != backend():
        parser.error(f"--backend {args.backend}: Keras was already imported with the {backend()} backend")
    variants = ADDONS_VARIANTS if args.vs_addons else VARIANTS
    families = args.families or (",".join(ADDONS_CELLS) if args.vs_addons else ",".join(FAMILIES))
    name = "cpu_vs_addons" if args.vs_addons else "cpu" if backend() == "tensorflow" else f"cpu_{backend()}"
    name += "_dynamic" if args.dynamic_shapes else ""

    def log(message, end="\n"):
        print(message, end=end, file=sys.stderr, flush=True)

    results = benchmark(
        families.split(","), args.sizes.split(","), args.repeats, args.warmup, log, variants, args.dynamic_shapes
    )
    os.makedirs(args.out, exist_ok=True)
    report = {
        "machine": machine(),
        "command": " ".join(["python", "benchmarks/rnn_benchmark.py", *sys.argv[1:]]),
        "results": results,
    }
    with open(os.path.join(args.out, f"{name}.json"), "w") as f:
        json.dump(report, f, indent=1)
    if not args.no_plot:
        plot(results, os.path.join(args.out, f"{name}.png"), variants)
    print(markdown_table(results, variants))
    return report


if __name__ == "__main__":
    main()
