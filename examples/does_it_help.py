"""Does layer normalization (or zoneout) help? Learning curves on the adding problem.

Trains, on the same data and for the same budget, Keras's un-normalized LSTM and
`LayerNormLSTM` in each convention the package offers (docs/cells.md), over a
few seeds, and writes:
- a PNG of the test MSE per epoch (mean over seeds, and the min-max band);
- a Markdown table (final test MSE mean and spread, the first epoch where the
  mean beat a threshold, seconds per epoch);
- every number, as JSON.

The adding problem (Hochreiter & Schmidhuber, 1997): two channels, random values
and a marker set at two steps; the target is the sum of the two marked values.
Predicting the mean scores an MSE of about 0.167; solving it means carrying two
numbers across the whole sequence (T = 200 by default).

    pip install matplotlib
    python examples/does_it_help.py [--steps 200] [--seeds 3] [--epochs 20] [--out docs/images]
"""

import argparse
import json
import os
import platform
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from adding_problem import adding_problem  # noqa: E402

import tensorflow_lnrnn as lnrnn  # noqa: E402
from tensorflow_lnrnn.utils.compat import keras  # noqa: E402

# name -> the recurrent layer (units -> layer). Zoneout rates: Krueger et al.'s
# recommendation for LSTMs (0.5 on the cell state, 0.05 on the output).
VARIANTS = {
    "keras": ("Keras LSTM (no LN)", lambda units: keras.layers.LSTM(units)),
    "addons": ("LN-LSTM, Addons (default)", lambda units: lnrnn.LayerNormLSTM(units)),
    "paper": ("LN-LSTM, paper (raw carry)", lambda units: lnrnn.LayerNormLSTM(units, carry_normalized_state=False)),
    "haste": (
        "LN-LSTM, haste (raw carry, gain-only)",
        lambda units: lnrnn.LayerNormLSTM(units, carry_normalized_state=False, norm_center=False),
    ),
    "zoneout": (
        "LN-LSTM + zoneout (c 0.5, h 0.05)",
        lambda units: lnrnn.LayerNormLSTM(units, zoneout_cell=0.5, zoneout_output=0.05),
    ),
}
BASELINE_MSE = 1.0 / 6.0  # always predicting 1.0: the variance of a sum of two U(0, 1)


def train_one(variant, data, args, seed):
    """Test MSE after each epoch, and the seconds per epoch."""
    (x_train, y_train), (x_test, y_test) = data
    keras.utils.set_random_seed(seed)
    model = keras.Sequential([keras.Input(x_train.shape[1:]), VARIANTS[variant][1](args.units), keras.layers.Dense(1)])
    model.compile(optimizer=keras.optimizers.Adam(args.learning_rate, clipnorm=1.0), loss="mse")
    curve, seconds = [], []
    for _ in range(args.epochs):
        start = time.perf_counter()
        model.fit(x_train, y_train, batch_size=args.batch_size, epochs=1, verbose=0)
        seconds.append(time.perf_counter() - start)
        curve.append(float(model.evaluate(x_test, y_test, batch_size=500, verbose=0)))
    return curve, float(np.median(seconds))


def first_epoch_below(curve, threshold):
    below = [epoch for epoch, mse in enumerate(curve, start=1) if mse < threshold]
    return below[0] if below else None


def markdown_table(results, threshold):
    lines = [
        f"| variant | final test MSE (mean ± std over seeds) | best seed | first epoch with mean MSE < {threshold} | s / epoch |",
        "|---|---|---|---|---|",
    ]
    for variant, runs in results.items():
        curves = np.array([run["curve"] for run in runs])
        mean = curves.mean(axis=0)
        reached = first_epoch_below(mean, threshold)
        lines.append(
            f"| {VARIANTS[variant][0]} | {curves[:, -1].mean():.4f} ± {curves[:, -1].std():.4f} | {curves[:, -1].min():.4f}"
            f" | {reached if reached else 'not reached'} | {np.median([r['seconds_per_epoch'] for r in runs]):.1f} |"
        )
    return "\n".join(lines)


def plot(results, path, args):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axis = plt.subplots(figsize=(8, 4.5))
    epochs = np.arange(1, args.epochs + 1)
    for variant, runs in results.items():
        curves = np.array([run["curve"] for run in runs])
        (line,) = axis.plot(epochs, curves.mean(axis=0), label=VARIANTS[variant][0])
        axis.fill_between(epochs, curves.min(axis=0), curves.max(axis=0), color=line.get_color(), alpha=0.15)
    axis.axhline(BASELINE_MSE, color="grey", linestyle=":", label="predict the mean")
    axis.set_yscale("log")
    axis.set_xlabel("epoch")
    axis.set_ylabel("test MSE (log)")
    axis.set_title(f"Adding problem, T = {args.steps}: mean and min-max over {args.seeds} seeds")
    axis.legend(fontsize="small")
    figure.tight_layout()
    figure.savefig(path, dpi=110)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=200, help="sequence length T")
    parser.add_argument("--units", type=int, default=64)
    parser.add_argument("--samples", type=int, default=6000)
    parser.add_argument("--batch-size", type=int, default=100)
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--learning-rate", type=float, default=3e-3)
    parser.add_argument("--threshold", type=float, default=0.05, help="MSE that counts as learning the task")
    parser.add_argument("--variants", default=",".join(VARIANTS), help=f"comma-separated, of: {', '.join(VARIANTS)}")
    parser.add_argument(
        "--out", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "docs", "images")
    )
    parser.add_argument("--no-plot", action="store_true")
    args = parser.parse_args(argv)
    variants = args.variants.split(",")

    rng = np.random.default_rng(0)  # the same data for every variant and seed
    data = adding_problem(args.samples, args.steps, rng), adding_problem(1000, args.steps, rng)
    results = {variant: [] for variant in variants}
    for seed in range(args.seeds):
        for variant in variants:  # interleaved, so that machine noise hits all alike
            curve, seconds = train_one(variant, data, args, seed)
            results[variant].append({"seed": seed, "curve": curve, "seconds_per_epoch": seconds})
            print(
                f"seed {seed} | {VARIANTS[variant][0]:40s} | final test MSE {curve[-1]:.4f} | {seconds:.1f} s/epoch",
                flush=True,
            )

    table = markdown_table(results, args.threshold)
    print(table)
    os.makedirs(args.out, exist_ok=True)
    with open(os.path.join(args.out, "does_it_help.json"), "w") as f:
        record = {
            "command": "python examples/does_it_help.py " + " ".join(argv if argv is not None else sys.argv[1:]),
            "arguments": vars(args),
            "machine": {"python": platform.python_version(), "platform": platform.platform()},
            "backend": keras.backend.backend() if hasattr(keras.backend, "backend") else "tensorflow",
            "results": results,
            "table": table,
        }
        json.dump(record, f, indent=1)
    if not args.no_plot:
        plot(results, os.path.join(args.out, "does_it_help.png"), args)
    return results


if __name__ == "__main__":
    main()
