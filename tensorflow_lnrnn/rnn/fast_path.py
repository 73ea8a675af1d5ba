"""The one dispatch point for fast whole-sequence loops, as Keras's
`backend.lstm` is for its layers.

`run(...)` returns Keras's `inner_loop` result `(last_output, outputs, states)`
when a fast implementation serves the call, else None and the layer falls back
to the generic per-step loop over the cell. Three implementations share the
cells' steps (`fused_steps.py`): TensorFlow's (`tf_fast_path.py`), under Keras
3's TensorFlow backend and Keras 2 (`tf.keras` 2.13-2.15, `tf_keras`), JAX's
(`jax_fast_path.py`) and PyTorch's (`torch_fast_path.py`).
"""

import importlib

from tensorflow_lnrnn.utils.compat import IS_KERAS_3, keras

# The fast loop of each backend that has one (imported when first used).
MODULES = {"tensorflow": "tf_fast_path", "jax": "jax_fast_path", "torch": "torch_fast_path"}


def run(layer, sequences, initial_state, mask, training, zoneout_masks=None):
    """`layer`: the `keras.layers.RNN` whose loop to run (its cell and its
    `go_backwards`, `return_sequences` and `zero_output_for_mask`).
    `zoneout_masks`: the cell's zoneout masks for every step (B, T, ...), drawn
    by the layer in training (rnn/zoneout.py), else None."""
    family = getattr(layer.cell, "fast_path_family", None)
    backend = keras.backend.backend() if IS_KERAS_3 else "tensorflow"  # (Keras 2 always runs on TensorFlow)
    if family is None or backend not in MODULES:
        return None
    module = importlib.import_module(f"tensorflow_lnrnn.rnn.{MODULES[backend]}")
    return module.run(family, layer, sequences, initial_state, mask, training, zoneout_masks)
