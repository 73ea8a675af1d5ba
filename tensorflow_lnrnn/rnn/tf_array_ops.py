"""The TensorFlow namespace of the fast paths' steps (`fused_steps.py`): a
layer normalization and a normalized projection with hand-written gradients,
and the ops a step uses.

TensorFlow's autodiff of `tf.nn.moments` adds a dozen ops per step to the
backward loop; `layer_norm` below has three reductions. `gram_projection`
(both projections in training, for kernels of few rows: the loop plan's
`gram_up_to`) takes the statistics of `v W` from `v` and the kernel's Gram
matrix, so that neither the forward step nor its gradient has an op as wide
as the gates but the matmul and one scaling: on the recurrence's chain for
`h U`, and in the step's total work for `x W` (docs/performance.md).
"""

import tensorflow as tf

from tensorflow_lnrnn.rnn import fused_steps


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


def gram_projection(kernel, gamma, shift, epsilon):
    """`v -> LN(v kernel) * gamma + shift` for a float32 (K, N) kernel whose
    columns are centered (`fused_steps._centered`), so that `v kernel` has
    zero mean over its width N and its variance is `v G v^T`, with the Gram
    matrix `G = kernel kernel^T / N`. Prepared once per call (G, and the gain
    folded into the kernel's columns), applied at every step.

    Why (in training, for kernels of few rows: `tf_fast_path.loop_plan`):
    the forward step has no N-wide op but the matmul and the scaling of its
    output, and the backward loop keeps `v`, `v G` and the inverse std
    instead of the normalized (B, N) product, so its gradient has no N-wide
    op either. For the recurrent projection that shortens the recurrence's
    chain; for the input's, which is off the chain, it cuts the step's total
    work, which is what a 2-core machine's two executor threads wait on. It
    costs two (B, K) x (K, K) matmuls per step, which only pay while K is
    small (docs/performance.md). `v G v^T` is exact algebra; in float32 its
    rounding stays at the direct computation's for kernels with a condition
    number up to 1000 at least, for outputs in (-1, 1) as for inputs of any
    offset and scale (tests/rnn/gram_projection_test.py)."""
    scaled_kernel = kernel * tf.cast(gamma, tf.float32)
    gram = tf.matmul(kernel, kernel, transpose_b=True) / kernel.shape[-1]

    @tf.custom_gradient
    def normalize(v, scaled_kernel, gram):
        v_gram = tf.matmul(v, gram)
        # (The clamp: rounding can take `v G v^T` a little below zero where
        # the true variance is zero; the gradient below ignores it.)
        variance = tf.maximum(tf.reduce_sum(v * v_gram, axis=-1, keepdims=True), 0.0)
        inverse_std = tf.math.rsqrt(variance + epsilon)

        def gradient(upstream):
            # out = (v K') s(v), K' = K gamma, s = (v G v^T + eps)^-1/2.
            back = tf.matmul(upstream, scaled_kernel, transpose_b=True)  # upstream K'^T
            # d variance = -s^3 / 2 * rowsum(upstream * v K') = -s^3 / 2 * rowsum(back * v)
            d_variance = tf.reduce_sum(back * v, axis=-1, keepdims=True) * (-0.5 * inverse_std**3)
            d_v = inverse_std * back + (2.0 * d_variance) * v_gram
            d_scaled_kernel = tf.matmul(inverse_std * v, upstream, transpose_a=True)
            d_gram = tf.matmul(d_variance * v, v, transpose_a=True)
            return d_v, d_scaled_kernel, d_gram

        return tf.matmul(v, scaled_kernel) * inverse_std, gradient

    def project(v):
        out = normalize(v, scaled_kernel, gram)
        return out if shift is None else out + shift

    return project


class TFArrayOps:
    """`fused_steps.py`'s namespace for TensorFlow (Keras 3's TF backend and
    Keras 2). `gram_up_to`: the recurrent projection, by a kernel of at most
    that many rows (units, in float32), is normalized by its kernel's Gram
    matrix (`gram_projection`); `gram_input_up_to`: the same for the input's
    projection, by a kernel of at most that many rows (the input's
    features); None: not (the loop plan's, `tf_fast_path.loop_plan`)."""

    def __init__(self, gram_up_to=None, gram_input_up_to=None):
        self.gram_up_to = gram_up_to
        self.gram_input_up_to = gram_input_up_to

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

    def hoists(self, shape):
        """Whether a kernel of `shape` gets its weight gradient hoisted out of
        the loop (`tf_hoisted_gradients.py`): not here."""
        return False

    def normalized_projection(self, kernel, gamma, shift, epsilon, recurrent=False):
        most_rows = self.gram_up_to if recurrent else self.gram_input_up_to
        if most_rows is not None and kernel.dtype == tf.float32 and kernel.shape[0] <= most_rows:
            return gram_projection(kernel, gamma, shift, epsilon)
        return fused_steps.plain_projection(self, kernel, gamma, shift, epsilon)
