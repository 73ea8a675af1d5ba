"""The TensorFlow namespace of the fast paths' steps (`fused_steps.py`): a
layer normalization with a hand-written gradient, and the ops a step uses.

TensorFlow's autodiff of `tf.nn.moments` adds a dozen ops per step to the
backward loop; `layer_norm` below has three reductions (docs/performance.md).
"""

import tensorflow as tf


def layer_norm(v, gamma, beta, epsilon, centered=False):
    """LN over the last axis; statistics in float32 (for mixed precision).
    `centered`: v's mean over the last axis is zero by construction (a
    projection by centered columns, `fused_steps._centered`)."""
    dtype = v.dtype
    v = tf.cast(v, tf.float32)
    gamma = tf.cast(gamma, tf.float32)

    @tf.custom_gradient
    def normalize(v, gamma):
        deviation = v if centered else v - tf.reduce_mean(v, axis=-1, keepdims=True)
        inverse_std = tf.math.rsqrt(tf.reduce_mean(tf.square(deviation), axis=-1, keepdims=True) + epsilon)
        normalized = deviation * inverse_std

        def gradient(upstream):
            scaled = upstream * gamma
            d_v = scaled - normalized * tf.reduce_mean(scaled * normalized, axis=-1, keepdims=True)
            if not centered:
                d_v -= tf.reduce_mean(scaled, axis=-1, keepdims=True)
            d_v *= inverse_std
            # Over the leading axes, named statically (no shape ops in the loop).
            d_gamma = tf.reduce_sum(upstream * normalized, axis=list(range(len(v.shape) - 1)))
            return d_v, d_gamma

        return normalized * gamma, gradient

    out = normalize(v, gamma)
    if beta is not None:
        out = out + tf.cast(beta, tf.float32)
    return tf.cast(out, dtype)


class TFArrayOps:
    """`fused_steps.py`'s namespace for TensorFlow (Keras 3's TF backend and Keras 2)."""

    matmul = staticmethod(tf.matmul)
    split = staticmethod(tf.split)
    layer_norm = staticmethod(layer_norm)
    float32 = staticmethod(lambda x: tf.cast(x, tf.float32))
    # Read once per call, before the loop (autocast as in the cell's call): the
    # loop captures a tensor. (A variable read inside the loop is read at
    # every step, and a gain used by a normalization's gradient is also pushed
    # on a stack per step for the backward loop: 3-6 more ops per step.)
    read = staticmethod(lambda variable: tf.convert_to_tensor(variable))
    center_columns = staticmethod(lambda w: w - tf.reduce_mean(w, axis=-1, keepdims=True))
