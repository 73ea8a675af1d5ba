"""The one place where Keras 2 and Keras 3 differ for this package.

Keras 3 (the ``keras`` package, TensorFlow >= 2.16) is the primary target.
Keras 2 is ``tf.keras`` on TensorFlow <= 2.15 (where TensorFlow Addons still
imports) or ``tf_keras`` on newer TensorFlow with ``TF_USE_LEGACY_KERAS=1``.
Cells import ``keras``, ``ops`` and the helpers below from here and never branch
on the Keras version themselves.
"""

import os


def _legacy_keras_requested():
    return os.environ.get("TF_USE_LEGACY_KERAS", "").lower() in ("1", "true", "yes")


def _select_keras():
    if not _legacy_keras_requested():
        import keras as keras_module

        if keras_module.__version__.split(".")[0] >= "3":
            return keras_module
    import tensorflow as tf  # Keras 2: tf.keras is the right one (tf_keras if legacy).

    return tf.keras


keras = _select_keras()
IS_KERAS_3 = keras.__version__.split(".")[0] >= "3"

if IS_KERAS_3:
    ops = keras.ops
    register_keras_serializable = keras.saving.register_keras_serializable
else:  # pragma: no cover - exercised by the Keras 2 CI job
    import tensorflow as tf

    class _TFOps:
        """The handful of ``keras.ops`` the cells use, mapped to TF ops."""

        matmul = staticmethod(tf.matmul)

        @staticmethod
        def split(x, indices_or_sections, axis=0):
            return tf.split(x, indices_or_sections, axis=axis)

    ops = _TFOps()
    register_keras_serializable = keras.utils.register_keras_serializable


def dropout_masks(cell, inputs, h_tm1, training):
    """Returns the (input, recurrent) dropout masks of a cell, or ``None``s.

    Masks are drawn once per sequence and reused at every step (Gal &
    Ghahramani; Semeniuta et al.), as Keras's own cells do.
    """
    if IS_KERAS_3:
        dp_mask = rec_dp_mask = None
        if training and 0.0 < cell.dropout < 1.0:
            dp_mask = cell.get_dropout_mask(inputs)
        if training and 0.0 < cell.recurrent_dropout < 1.0:
            rec_dp_mask = cell.get_recurrent_dropout_mask(h_tm1)
        return dp_mask, rec_dp_mask
    dp_mask = cell.get_dropout_mask_for_cell(inputs, training, count=1)  # pragma: no cover
    rec_dp_mask = cell.get_recurrent_dropout_mask_for_cell(h_tm1, training, count=1)
    return dp_mask, rec_dp_mask  # pragma: no cover
