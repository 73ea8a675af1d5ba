"""Record every Keras 2 activation's values, for the drift test on Keras 3.

Run on TF 2.15 (Keras 2.15), e.g. in the Addons reference environment:

    /tmp/tfa-env/bin/python scripts/make_keras2_activation_fixtures.py
"""

import os

import numpy as np
import tensorflow as tf

OUT = os.path.join(os.path.dirname(__file__), "..", "tests", "fixtures", "keras2_activations.npz")
NAMES = [
    "elu",
    "exponential",
    "gelu",
    "hard_sigmoid",
    "leaky_relu",
    "linear",
    "log_softmax",
    "mish",
    "relu",
    "relu6",
    "selu",
    "sigmoid",
    "silu",
    "softmax",
    "softplus",
    "softsign",
    "swish",
    "tanh",
]


def main():
    x = np.linspace(-6.0, 6.0, 241, dtype="float32").reshape(1, -1)
    values = {name: tf.keras.activations.get(name)(tf.constant(x)).numpy() for name in NAMES}
    np.savez(
        OUT,
        inputs=x,
        keras_version=np.array(tf.keras.__version__ if hasattr(tf.keras, "__version__") else tf.__version__),
        **values,
    )
    print(f"wrote {len(values)} activations to {OUT}")


if __name__ == "__main__":
    main()
