"""Fast whole-sequence loops for the TensorFlow backend.

What makes them fast, each measured with `benchmarks/rnn_benchmark.py` on CPU
(docs/performance.md has the numbers and what did not win):
- a layer normalization with a hand-written gradient (`layer_norm` below):
  TensorFlow's autodiff of `tf.nn.moments` adds a dozen ops per step to the
  backward loop, this one three reductions;
- the loop reads time-major slices from a TensorArray (slicing a tensor inside
  the loop would make the backward pass build a full-size gradient per step),
  and only collects per-step outputs when `return_sequences` needs them;
- per-sequence dropout masks are Keras's own, drawn once and reused.
Computing the input projection and its normalization for all time steps at once,
before the loop, was measured and lost on CPU (memory-bound on a (B, T, 4H)
tensor), as did compiling the loop with XLA; see docs/performance.md.
The steps' math is the cells', written once for every fast path in
`fused_steps.py`; `tests/rnn/sequence_layer_test.py` checks the fast loop
against the generic one and against NumPy, values and gradients.
"""

import tensorflow as tf

from tensorflow_lnrnn.rnn import fused_steps
from tensorflow_lnrnn.utils.compat import dropout_masks


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
    read = staticmethod(lambda variable: variable)  # a captured variable, read where used
    center_columns = staticmethod(lambda w: w - tf.reduce_mean(w, axis=-1, keepdims=True))


def run(family, layer, sequences, initial_state, mask, training, zoneout_masks=None):
    """Keras's `inner_loop` contract: returns (last_output, outputs, states),
    with the masking semantics of Keras's TensorFlow `backend.rnn`.
    `zoneout_masks`: (B, T, ...) in training when the cell has zoneout, else None."""
    cell = layer.cell
    # Integer and bool inputs: as `RNN(cell)`, whose matmuls promote them.
    sequences = tf.cast(sequences, cell.compute_dtype)
    # Keras's own per-sequence masks (Keras 2 and 3 name them differently).
    dp_mask, rec_dp_mask = dropout_masks(cell, sequences[:, 0], initial_state[0], training)
    if dp_mask is not None:
        sequences = sequences * tf.expand_dims(dp_mask, 1)  # the same mask at every step
    cell_step = fused_steps.make_step(family, cell, TFArrayOps)
    # Zoneout (rnn/zoneout.py): its equations are the cell's own. In training,
    # each step reads its masks, in the inputs' processing order.
    if zoneout_masks is not None:
        masks_time_major = tf.transpose(tf.cast(zoneout_masks, sequences.dtype), [1, 0, 2])
        if layer.go_backwards:
            masks_time_major = tf.reverse(masks_time_major, [0])
        zoneout_masks = tf.TensorArray(sequences.dtype, size=tf.shape(masks_time_major)[0]).unstack(masks_time_major)
    zoneout_on = bool(cell.zoneout_rates())

    def step(t, x_t, states, h_for_matmul):
        new_states = cell_step(x_t, states, h_for_matmul)
        if not zoneout_on:
            return new_states
        masks = None
        if zoneout_masks is not None:
            # Packed as the generic loop gets them at the end of a step's inputs.
            masks = cell.zoneout_masks_by_state(zoneout_masks.read(t))
        return cell.apply_zoneout(states, new_states, training, masks)

    # Time-major TensorArrays: per-step reads whose gradient stays per-step.
    inputs = tf.transpose(sequences, [1, 0, 2])
    if layer.go_backwards:
        inputs = tf.reverse(inputs, [0])
    # The static length where there is one, as Keras's own loop does: a tensor
    # there makes tf2onnx type the ONNX Loop's counter inconsistently (onnxruntime
    # refuses the file: "Tensor element type mismatch").
    steps = inputs.shape[0] if inputs.shape[0] is not None else tf.shape(inputs)[0]
    inputs = tf.TensorArray(inputs.dtype, size=steps).unstack(inputs)
    states = [tf.convert_to_tensor(s) for s in initial_state]
    # Per-step outputs only when asked for (an unused TensorArray still costs,
    # and XLA cannot differentiate an empty one).
    outputs = [tf.TensorArray(states[0].dtype, size=steps)] if layer.return_sequences else []

    if mask is None:

        def body(t, states, outputs):
            h_for_matmul = states[0] if rec_dp_mask is None else states[0] * rec_dp_mask
            states = step(t, inputs.read(t), states, h_for_matmul)
            return t + 1, states, [ta.write(t, states[0]) for ta in outputs]

        loop_vars = (tf.constant(0), states, outputs)
    else:
        # Time-major (T, B, 1): each step reads a mask that broadcasts over units.
        time_mask = tf.expand_dims(tf.transpose(tf.cast(mask, tf.bool), [1, 0]), -1)
        if layer.go_backwards:
            time_mask = tf.reverse(time_mask, [0])
        time_mask = tf.TensorArray(tf.bool, size=steps).unstack(time_mask)
        zeros = tf.zeros_like(states[0])

        def body(t, states, output, outputs):
            # A masked step keeps the previous states; its output is zeros
            # (`zero_output_for_mask`) or the previous step's output, which is
            # zeros before the first unmasked step, not the initial state.
            h_for_matmul = states[0] if rec_dp_mask is None else states[0] * rec_dp_mask
            new_states = step(t, inputs.read(t), states, h_for_matmul)
            keep = time_mask.read(t)
            states = [tf.where(keep, new, old) for new, old in zip(new_states, states)]
            output = tf.where(keep, new_states[0], zeros if layer.zero_output_for_mask else output)
            return t + 1, states, output, [ta.write(t, output) for ta in outputs]

        loop_vars = (tf.constant(0), states, zeros, outputs)

    # maximum_iterations: XLA (jit_compile=True) needs a bound to differentiate the loop.
    results = tf.while_loop(lambda t, *_: t < steps, body, loop_vars, maximum_iterations=steps)
    states, outputs = results[1], results[-1]
    # Every cell's output is its first state; with a mask, the last step's output.
    last_output = states[0] if mask is None else results[2]
    if layer.return_sequences:
        outputs = tf.transpose(outputs[0].stack(), [1, 0, 2])
    else:
        outputs = tf.expand_dims(last_output, 1)  # unused by RNN.call
    return last_output, outputs, states
