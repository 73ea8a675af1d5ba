"""Fast whole-sequence loops for the TensorFlow backend.

What makes them fast, each measured with `benchmarks/rnn_benchmark.py`:
- the input projection and, where the math allows it, its normalization are
  computed for all time steps at once, before the loop (one large matmul and
  one normalization instead of T small ones);
- the loop body then holds one matmul, one normalization and the gates;
- per-step dropout masks are drawn once (Keras's own masks) and reused.
The math is the cells' (see their docstrings); `tests/rnn/sequence_layer_test.py`
checks the fast and the generic loop against each other and against NumPy.
"""

import tensorflow as tf

from tensorflow_lnrnn.utils.compat import keras


def layer_norm(v, gamma, beta, epsilon):
    """LN over the last axis, with statistics in float32 (mixed precision)."""
    dtype = v.dtype
    v = tf.cast(v, tf.float32)
    mean, variance = tf.nn.moments(v, axes=[-1], keepdims=True)
    out = (v - mean) * tf.math.rsqrt(variance + epsilon) * tf.cast(gamma, tf.float32)
    if beta is not None:
        out = out + tf.cast(beta, tf.float32)
    return tf.cast(out, dtype)


def _norm_weights(norm):
    return norm.gamma, norm.beta, norm.epsilon


def _project(sequences, kernel):
    """x W for every time step at once: (B, T, D) @ (D, N) -> (B, T, N)."""
    return tf.einsum("btd,dn->btn", sequences, tf.cast(kernel, sequences.dtype))


def _lstm(cell, projected):
    """Returns (precomputed per-step inputs, step function) for LayerNormLSTMCell."""
    xp = layer_norm(projected, *_norm_weights(cell.kernel_norm))
    if cell.use_bias:
        xp = xp + cell.bias
    recurrent_kernel = cell.recurrent_kernel
    r_norm, s_norm = _norm_weights(cell.recurrent_norm), _norm_weights(cell.state_norm)
    act, rec_act = cell.activation, cell.recurrent_activation

    def step(x_t, states, h_for_matmul):
        h, c = states
        z = x_t + layer_norm(tf.matmul(h_for_matmul, recurrent_kernel), *r_norm)
        i, f, g, o = tf.split(z, 4, axis=-1)
        c = layer_norm(rec_act(f) * c + rec_act(i) * act(g), *s_norm)
        h = rec_act(o) * act(c)
        return h, [h, c]

    return xp, step


def _gru(cell, projected):
    xp = layer_norm(projected, *_norm_weights(cell.kernel_norm))
    recurrent_bias = None
    if cell.use_bias:
        xp = xp + cell.bias[0]
        recurrent_bias = cell.bias[1]
    recurrent_kernel = cell.recurrent_kernel
    r_norm = _norm_weights(cell.recurrent_norm)
    act, rec_act = cell.activation, cell.recurrent_activation

    def step(x_t, states, h_for_matmul):
        (h,) = states
        r = layer_norm(tf.matmul(h_for_matmul, recurrent_kernel), *r_norm)
        if recurrent_bias is not None:
            r = r + recurrent_bias
        x_z, x_r, x_h = tf.split(x_t, 3, axis=-1)
        r_z, r_r, r_h = tf.split(r, 3, axis=-1)
        z = rec_act(x_z + r_z)
        hh = act(x_h + rec_act(x_r + r_r) * r_h)
        h = z * h + (1 - z) * hh
        return h, [h]

    return xp, step


def _simple_rnn(cell, projected):
    # The normalization covers x W + h U together: only x W is precomputed.
    recurrent_kernel, bias = cell.recurrent_kernel, cell.bias
    norm = cell.layernorm
    act = cell.activation

    def step(x_t, states, h_for_matmul):
        out = layer_norm(x_t + tf.matmul(h_for_matmul, recurrent_kernel), norm.gamma, None, norm.epsilon)
        if bias is not None:
            out = out + bias
        if act is not None:
            out = act(out)
        return out, [out]

    return projected, step


FAMILIES = {"lstm": _lstm, "gru": _gru, "simple_rnn": _simple_rnn}


def run(family, cell, sequences, initial_state, mask, training, go_backwards):
    dp_mask = rec_dp_mask = None
    if training and 0.0 < cell.dropout < 1.0:
        dp_mask = cell.get_dropout_mask(sequences[:, 0])
    if training and 0.0 < cell.recurrent_dropout < 1.0:
        rec_dp_mask = cell.get_recurrent_dropout_mask(initial_state[0])
    if dp_mask is not None:
        sequences = sequences * tf.expand_dims(dp_mask, 1)  # the same mask at every step
    if go_backwards:
        sequences = tf.reverse(sequences, [1])
        mask = None if mask is None else tf.reverse(mask, [1])

    precomputed, step = FAMILIES[family](cell, _project(sequences, cell.kernel))
    precomputed = tf.transpose(precomputed, [1, 0, 2])  # time-major, for the loop
    time_mask = None if mask is None else tf.transpose(tf.cast(mask, tf.bool), [1, 0])
    steps = tf.shape(precomputed)[0]
    states = [tf.convert_to_tensor(s) for s in initial_state]
    outputs = tf.TensorArray(precomputed.dtype, size=steps)

    def body(t, states, outputs):
        h_for_matmul = states[0] if rec_dp_mask is None else states[0] * rec_dp_mask
        output, new_states = step(precomputed[t], states, h_for_matmul)
        if time_mask is not None:  # masked steps keep the previous state
            keep = tf.expand_dims(time_mask[t], -1)
            new_states = [tf.where(keep, new, old) for new, old in zip(new_states, states)]
            output = new_states[0]
        return t + 1, new_states, outputs.write(t, output)

    _, states, outputs = tf.while_loop(
        lambda t, *_: t < steps, body, (tf.constant(0), states, outputs), maximum_iterations=steps
    )
    outputs = tf.transpose(outputs.stack(), [1, 0, 2])
    return outputs[:, -1], outputs, states
