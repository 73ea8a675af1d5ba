"""Dump reference weights, inputs and outputs of TensorFlow Addons' cells.

Run in the Addons reference environment (Python 3.11):

    python -m venv /tmp/tfa-env
    /tmp/tfa-env/bin/pip install tensorflow-cpu==2.15.1 tensorflow-addons==0.23.0
    /tmp/tfa-env/bin/python scripts/make_addons_fixtures.py

It writes one ``.npz`` per configuration to ``tests/fixtures/addons/``. The
parity tests load them on the current TensorFlow, set the same weights in our
cells and check that outputs and final states agree.
"""

import json
import os

import numpy as np
import tensorflow as tf
import tensorflow_addons as tfa

OUT_DIR = os.path.join(os.path.dirname(__file__), "..", "tests", "fixtures", "addons")

BATCH, TIME, INPUT_DIM = 3, 6, 5

# (fixture name, Addons class name, constructor kwargs, use a mask, go_backwards).
# Activations are limited to those whose definition is the same in Keras 2 and
# Keras 3 (hard_sigmoid and gelu changed; the migration fixtures cover those).
CONFIGS = [
    ("lstm_defaults", "LayerNormLSTMCell", {"units": 4}, False, False),
    (
        "lstm_norm_args",
        "LayerNormLSTMCell",
        {
            "units": 4,
            "norm_epsilon": 1e-5,
            "norm_gamma_initializer": "random_normal",
            "norm_beta_initializer": "random_uniform",
            "unit_forget_bias": False,
        },
        False,
        False,
    ),
    ("lstm_no_bias", "LayerNormLSTMCell", {"units": 3, "use_bias": False}, False, False),
    (
        "lstm_activations",
        "LayerNormLSTMCell",
        {"units": 4, "activation": "relu", "recurrent_activation": "tanh"},
        False,
        False,
    ),
    (
        "lstm_softsign_masked_backwards",
        "LayerNormLSTMCell",
        {"units": 2, "activation": "softsign", "norm_epsilon": 0.1},
        True,
        True,
    ),
    ("simple_rnn_defaults", "LayerNormSimpleRNNCell", {"units": 4}, False, False),
    (
        "simple_rnn_args",
        "LayerNormSimpleRNNCell",
        {"units": 4, "layernorm_epsilon": 1e-3, "gamma_initializer": "random_normal"},
        False,
        False,
    ),
    ("simple_rnn_no_bias", "LayerNormSimpleRNNCell", {"units": 3, "use_bias": False}, False, False),
    (
        "simple_rnn_relu_masked_backwards",
        "LayerNormSimpleRNNCell",
        {"units": 2, "activation": "relu"},
        True,
        True,
    ),
]


def make_fixture(name, class_name, kwargs, masked, go_backwards, rng):
    cell = getattr(tfa.rnn, class_name)(**kwargs)
    layer = tf.keras.layers.RNN(cell, return_sequences=True, return_state=True, go_backwards=go_backwards)
    inputs = rng.normal(size=(BATCH, TIME, INPUT_DIM)).astype("float32")
    mask = np.ones((BATCH, TIME), dtype=bool)
    if masked:
        mask[0, -2:] = False  # trailing padding
        mask[1, :1] = False  # leading padding
    layer.build(inputs.shape)
    # Random weights everywhere, so that gamma/beta and the bias matter.
    weights = [rng.normal(scale=0.5, size=w.shape).astype("float32") for w in cell.get_weights()]
    cell.set_weights(weights)
    results = layer(inputs, mask=tf.constant(mask) if masked else None)
    sequences, states = results[0].numpy(), [s.numpy() for s in results[1:]]
    config = cell.get_config()
    meta = {
        "class_name": class_name,
        "kwargs": kwargs,
        "masked": masked,
        "go_backwards": go_backwards,
        "config_keys": sorted(config),
        "weight_names": [w.name.split("/", 1)[1] for w in cell.weights],
        "tensorflow": tf.__version__,
        "addons": tfa.__version__,
    }
    arrays = {f"weight_{i}": w for i, w in enumerate(weights)}
    arrays.update({f"state_{i}": s for i, s in enumerate(states)})
    np.savez(
        os.path.join(OUT_DIR, name + ".npz"),
        meta=np.array(json.dumps(meta, sort_keys=True)),
        inputs=inputs,
        mask=mask,
        sequences=sequences,
        **arrays,
    )
    print(f"wrote {name}: {class_name}({kwargs}) -> sequences {sequences.shape}")


def main():
    os.makedirs(OUT_DIR, exist_ok=True)
    rng = np.random.default_rng(20161607)
    tf.keras.utils.set_random_seed(1607)
    for config in CONFIGS:
        make_fixture(*config, rng=rng)


if __name__ == "__main__":
    main()
