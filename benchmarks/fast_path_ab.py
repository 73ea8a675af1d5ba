"""A/B timing of the TF fast path against another checkout's, in one process.

Loads `tensorflow_lnrnn/rnn/tf_fast_path.py` and the modules it imports from the
package (`fused_steps.py`, `tf_array_ops.py`, `tf_hoisted_gradients.py`) from
another checkout (for example `git worktree add /tmp/before HEAD~1`) beside
this one's, builds the same layer
twice (one on each fast path, the same weights) and Keras's un-normalized layer,
and times them interleaved, as `rnn_benchmark.py` does. Also prints the ops per
time step of both loops: equal counts mean the same graph.

    python benchmarks/fast_path_ab.py --other /tmp/before [--families lstm] [--sizes small] [--repeats 15]
"""

import argparse
import importlib.util
import inspect
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import rnn_benchmark as rb  # noqa: E402

from tensorflow_lnrnn.rnn import tf_fast_path  # noqa: E402


def _load(path, name):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def load_other(checkout):
    folder = os.path.join(checkout, "tensorflow_lnrnn", "rnn")
    # The other checkout's modules that its tf_fast_path imports from the
    # package (where it has them), swapped in while it loads, in import order.
    package = sys.modules["tensorflow_lnrnn.rnn"]
    names = ("fused_steps", "tf_array_ops", "tf_hoisted_gradients")
    these = {name: sys.modules.get(f"tensorflow_lnrnn.rnn.{name}") for name in names}
    try:
        for name in names:
            if os.path.exists(os.path.join(folder, f"{name}.py")):
                other = _load(os.path.join(folder, f"{name}.py"), f"other_{name}")
                sys.modules[f"tensorflow_lnrnn.rnn.{name}"] = other
                setattr(package, name, other)
        module = _load(os.path.join(folder, "tf_fast_path.py"), "other_tf_fast_path")
    finally:
        for name, this in these.items():
            if this is not None:
                sys.modules[f"tensorflow_lnrnn.rnn.{name}"] = this
                setattr(package, name, this)
    takes_zoneout = "zoneout_masks" in inspect.signature(module.run).parameters

    def run(family, layer, sequences, initial_state, mask, training, zoneout_masks=None):
        extra = (zoneout_masks,) if takes_zoneout else ()
        return module.run(family, layer, sequences, initial_state, mask, training, *extra)

    run.module = module  # (the other tf_fast_path)
    return run


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--other", required=True, help="the other checkout's root")
    parser.add_argument("--families", default=",".join(rb.FAMILIES))
    parser.add_argument("--sizes", default="small", help="names or BATCHxTIMExINPUTxUNITS")
    parser.add_argument("--repeats", type=int, default=15)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--dynamic-shapes", action="store_true", help="batch and length known only at run time")
    args = parser.parse_args(argv)
    this_run, other_run = tf_fast_path.run, load_other(args.other)
    rows = []
    for family in args.families.split(","):
        for size_name in args.sizes.split(","):
            size = rb.parse_size(size_name)
            steps = {}
            for variant, run in (("this", this_run), ("other", other_run), ("keras", None)):
                tf_fast_path.run = run or this_run  # read when the step is traced (below)
                layer = rb.make_layer("keras" if run is None else "ours", family, size["units"])
                rb.keras.utils.set_random_seed(0)  # the same weights for both of ours
                steps[variant] = rb.make_steps(layer, size, args.dynamic_shapes)
                for mode in rb.MODES:
                    for _ in range(args.warmup):
                        rb.time_call(steps[variant][mode])
            tf_fast_path.run = this_run
            samples = rb.time_interleaved({(v, m): steps[v][m] for m in rb.MODES for v in steps}, args.repeats)
            for mode in rb.MODES:
                median = {v: float(np.median(samples[(v, mode)])) * 1000 for v in steps}
                ops = {v: rb.loop_op_counts(steps[v][mode]) for v in ("this", "other")}
                rows.append({"family": family, "size": size_name, "mode": mode, "median_ms": median, "ops": ops})
                print(
                    f"{family} {size_name} {mode}: this {median['this']:.1f} ms, other {median['other']:.1f} ms,"
                    f" keras {median['keras']:.1f} ms | this/other {median['this'] / median['other']:.2f}"
                    f" | this/keras {median['this'] / median['keras']:.2f} | other/keras"
                    f" {median['other'] / median['keras']:.2f} | loop ops this {ops['this']} other {ops['other']}"
                )
    return rows


if __name__ == "__main__":
    main()
