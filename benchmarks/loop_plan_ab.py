"""The TF fast path under forced loop plans (`tf_fast_path.LoopPlan`), timed
side by side in one process, interleaved, with Keras's un-normalized layer:
how the plan rule in `tf_fast_path.loop_plan` was chosen (docs/performance.md,
"Loop plans").

    python benchmarks/loop_plan_ab.py --plans "1,none;2,none" --sizes 16x100x32x128,64x100x32x64 --mode infer
    python benchmarks/loop_plan_ab.py --plans "1,none;1,512x512;2,1x1" --sizes small --mode train
    python benchmarks/loop_plan_ab.py --plans "1,none;1,none,128" --sizes small --mode train
    python benchmarks/loop_plan_ab.py --plans "1,512x512,128,1;1,512x512,128,2" --sizes small,large --mode train
    python benchmarks/loop_plan_ab.py --plans "1,512x512,128,2;1,512x512,128,2,chunk" --sizes 16x100x32x128 --mode train
    python benchmarks/loop_plan_ab.py --plans "1,512x512,128,2,none,128;1,512x512,128,2,none,none" --sizes small,large --mode train

A plan is `lanes,hoist_from[,gram_up_to[,unroll[,chunk[,gram_input_up_to]]]]`: `hoist_from` is `none`, or
`ROWSxCOLUMNS` (kernels of at least that size get their weight gradients
hoisted); `gram_up_to`, if given, is `none` or the most rows of a recurrent
kernel normalized by its Gram matrix; `unroll`, if given, the time steps per
loop iteration; `chunk`, if given, `chunk` (an iteration's input parts at
once) or `none`; `gram_input_up_to`, if given, `none` or the most rows
(input features) of an input kernel normalized by its Gram matrix (left
out: none). A size is a name from
`rnn_benchmark.SIZES` or `BATCHxTIMExINPUTxUNITS`. Prints, per family and
size, each plan's median and its ratio to Keras's layer and to the first plan.
"""

import argparse
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import rnn_benchmark as rb  # noqa: E402

from tensorflow_lnrnn.rnn import tf_fast_path  # noqa: E402


def parse_plan(text):
    lanes, hoist_from, *rest = text.split(",")
    hoist = None if hoist_from == "none" else tuple(int(n) for n in hoist_from.split("x"))
    numbers = [None if n == "none" else int(n) for n in rest[:2]]
    chunk = [rest[2] == "chunk"] if len(rest) > 2 else []
    gram_input = [None if rest[3] == "none" else int(rest[3])] if len(rest) > 3 else []
    return tf_fast_path.LoopPlan(int(lanes), hoist, *numbers, *chunk, *gram_input)


def compare(family, size, plans, mode, repeats, warmup):
    """({variant: median ms}, {variant: loop ops per step}): each plan's layer
    (the same weights) and Keras's."""
    chosen = tf_fast_path.loop_plan
    steps = {}
    try:
        for name, plan in [*plans.items(), ("keras", None)]:
            # The plan is read when the step is traced: on its first (warm-up) call.
            tf_fast_path.loop_plan = lambda family, batch_size, units, training, plan=plan, **_: plan
            layer = rb.make_layer("keras" if plan is None else "ours", family, size["units"])
            rb.keras.utils.set_random_seed(0)
            steps[name] = rb.make_steps(layer, size)[mode]
            for _ in range(warmup):
                rb.time_call(steps[name])
    finally:
        tf_fast_path.loop_plan = chosen
    samples = rb.time_interleaved(steps, repeats)
    ops = {name: rb.loop_op_counts(step) for name, step in steps.items()}
    return {name: float(np.median(times)) * 1000 for name, times in samples.items()}, ops


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--plans", default="1,none;2,none", help="';'-separated lanes,hoist_from[,gram_up_to]")
    parser.add_argument("--families", default=",".join(rb.FAMILIES))
    parser.add_argument("--sizes", default="small")
    parser.add_argument("--mode", choices=rb.MODES, default="infer")
    parser.add_argument("--repeats", type=int, default=21)
    parser.add_argument("--warmup", type=int, default=3)
    args = parser.parse_args(argv)
    plans = {text: parse_plan(text) for text in args.plans.split(";")}
    first = next(iter(plans))
    results = []
    for family in args.families.split(","):
        for size_text in args.sizes.split(","):
            median, ops = compare(family, rb.parse_size(size_text), plans, args.mode, args.repeats, args.warmup)
            results.append({"family": family, "size": size_text, "mode": args.mode, "median_ms": median, "ops": ops})
            print(
                f"{family} {size_text} {args.mode}: "
                + " | ".join(
                    f"[{name}] {ms:.1f} ms, /keras {ms / median['keras']:.2f}, /[{first}] {ms / median[first]:.2f}"
                    for name, ms in median.items()
                    if name != "keras"
                )
                + f" | keras {median['keras']:.1f} ms",
                flush=True,
            )
    return results


if __name__ == "__main__":
    main()
