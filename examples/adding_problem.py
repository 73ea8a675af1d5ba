"""Train a layer-normalized LSTM on the adding problem (Hochreiter & Schmidhuber).

Each sequence has two channels: random numbers in [0, 1) and a marker that is 1
at exactly two time steps. The target is the sum of the two marked numbers.
Always predicting the mean (1.0) scores an MSE of about 0.167; a recurrent
network has to carry what it saw across the sequence to do better.

    python examples/adding_problem.py [--steps 30] [--epochs 8]
"""

import argparse
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402

import tensorflow_lnrnn as lnrnn  # noqa: E402
from tensorflow_lnrnn.utils.compat import keras  # noqa: E402


def adding_problem(num_samples, steps, rng):
    values = rng.uniform(size=(num_samples, steps))
    markers = np.zeros((num_samples, steps))
    for row in markers:
        row[rng.choice(steps, size=2, replace=False)] = 1.0
    inputs = np.stack([values, markers], axis=-1).astype("float32")
    targets = (values * markers).sum(axis=1, keepdims=True).astype("float32")
    return inputs, targets


def build_model(steps, units):
    return keras.Sequential(
        [
            keras.Input((steps, 2)),
            # Layer normalization inside the recurrence, at every time step:
            keras.layers.RNN(lnrnn.LayerNormLSTMCell(units)),
            keras.layers.Dense(1),
        ]
    )


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=30, help="sequence length")
    parser.add_argument("--units", type=int, default=32)
    parser.add_argument("--epochs", type=int, default=8)
    parser.add_argument("--samples", type=int, default=4000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--learning-rate", type=float, default=5e-3)
    args = parser.parse_args(argv)

    keras.utils.set_random_seed(args.seed)
    rng = np.random.default_rng(args.seed)
    x_train, y_train = adding_problem(args.samples, args.steps, rng)
    x_test, y_test = adding_problem(1000, args.steps, rng)
    baseline = float(np.mean((y_test - y_train.mean()) ** 2))

    model = build_model(args.steps, args.units)
    model.compile(optimizer=keras.optimizers.Adam(args.learning_rate, clipnorm=1.0), loss="mse")
    print(
        f"Adding problem: {args.samples} sequences of {args.steps} steps; "
        f"LayerNormLSTMCell({args.units}) in keras.layers.RNN"
    )
    start = time.time()
    model.fit(x_train, y_train, epochs=args.epochs, batch_size=64, validation_split=0.1, verbose=2)
    test_mse = float(model.evaluate(x_test, y_test, verbose=0))
    print(
        f"Trained in {time.time() - start:.0f}s. Test MSE {test_mse:.4f} "
        f"(predicting the mean: {baseline:.4f}, {baseline / test_mse:.0f}x worse)"
    )
    return test_mse, baseline


if __name__ == "__main__":
    main()
