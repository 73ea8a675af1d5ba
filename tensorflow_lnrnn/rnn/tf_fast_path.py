"""Fast whole-sequence loops for the TensorFlow backend.

What makes them fast, each measured with `benchmarks/rnn_benchmark.py` on CPU
(docs/performance.md has the numbers and what did not win):
- a layer normalization with a hand-written gradient (`layer_norm` below):
  TensorFlow's autodiff of `tf.nn.moments` adds a dozen ops per step to the
  backward loop, this one three reductions;
- the loop reads time-major slices from a TensorArray (slicing a tensor inside
  the loop would make the backward pass build a full-size gradient per step),
  and only collects per-step outputs when `return_sequences` needs them;
- per-sequence dropout masks are Keras's own, drawn once and reused;
- in inference on CPU, the batch runs as two lanes in one loop (`lane_count`):
  a step is a long chain of small ops (the normalizations are on the
  recurrence), and one chain keeps one of TensorFlow's executor threads idle
  most of the time; two independent chains fill both.
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


# Lanes in inference: measured best on 2 cores (4 were slower; docs/performance.md).
LANES = 2


def lane_count(batch_size, training):
    """How many independent batch lanes the loop runs (see `run`): two in
    inference on a CPU-only machine, one otherwise."""
    if training or any(tf.config.list_logical_devices(kind) for kind in ("GPU", "TPU")):
        # Training: each lane would compute and accumulate its own weight
        # gradients at every step, which costs more than the lanes save
        # (docs/performance.md). Accelerators: one kernel per op is what they
        # want. (A graph keeps the lanes it was traced with, wherever it runs.)
        return 1
    return 1 if batch_size is not None and batch_size < 2 else LANES


def _split_batch(tensor, lanes):
    """`tensor` (batch first) in `lanes` parts along the batch (the first ones
    one row longer where it does not divide), a dynamic batch included."""
    if lanes == 1:
        return [tensor]
    batch = tensor.shape[0]
    if batch is None:
        batch = tf.shape(tensor)[0]
    sizes = [(batch + lanes - 1 - lane) // lanes for lane in range(lanes)]
    # Static sizes where the batch is: converters (LiteRT) want static shapes.
    return tf.split(tensor, sizes if isinstance(batch, int) else tf.stack(sizes), axis=0, num=lanes)


def _time_major_array(tensor, go_backwards, size):
    """A (B, T, ...) tensor as a TensorArray of its T steps, in processing
    order: per-step reads whose gradient stays per-step."""
    time_major = tf.transpose(tensor, [1, 0] + list(range(2, len(tensor.shape))))
    if go_backwards:
        time_major = tf.reverse(time_major, [0])
    return tf.TensorArray(tensor.dtype, size=size).unstack(time_major)


def run(family, layer, sequences, initial_state, mask, training, zoneout_masks=None):
    """Keras's `inner_loop` contract: returns (last_output, outputs, states),
    with the masking semantics of Keras's TensorFlow `backend.rnn`.
    `zoneout_masks`: (B, T, ...) in training when the cell has zoneout, else None.

    In inference on CPU the batch is run as two independent lanes in the same
    loop: each step's ops on one half do not wait for the other's, so
    TensorFlow's executor runs the two chains of small ops side by side, where
    one chain leaves a core idle (rows are independent: the same numbers)."""
    cell = layer.cell
    # Integer and bool inputs: as `RNN(cell)`, whose matmuls promote them.
    sequences = tf.cast(sequences, cell.compute_dtype)
    # Keras's own per-sequence masks (Keras 2 and 3 name them differently).
    dp_mask, rec_dp_mask = dropout_masks(cell, sequences[:, 0], initial_state[0], training)
    if dp_mask is not None:
        sequences = sequences * tf.expand_dims(dp_mask, 1)  # the same mask at every step
    cell_step = fused_steps.make_step(family, cell, TFArrayOps)
    zoneout_on = bool(cell.zoneout_rates())
    go_backwards, return_sequences = layer.go_backwards, layer.return_sequences
    # The static length where there is one, as Keras's own loop does: a tensor
    # there makes tf2onnx type the ONNX Loop's counter inconsistently (onnxruntime
    # refuses the file: "Tensor element type mismatch").
    steps = sequences.shape[1] if sequences.shape[1] is not None else tf.shape(sequences)[1]
    lanes = lane_count(sequences.shape[0], training)

    # Per lane: its rows of everything that has a batch axis; time-major
    # TensorArrays of what is read per step, in processing order.
    lanes_inputs = [_time_major_array(x, go_backwards, steps) for x in _split_batch(sequences, lanes)]
    lanes_keep = lanes_zoneout = lanes_rec_dp = [None] * lanes
    if mask is not None:
        # (B, T, 1): each step reads a mask that broadcasts over units.
        # Split as integers: LiteRT has no native split of booleans.
        keep = tf.expand_dims(tf.cast(tf.cast(mask, tf.bool), tf.int32), -1)
        lanes_keep = [_time_major_array(tf.cast(k, tf.bool), go_backwards, steps) for k in _split_batch(keep, lanes)]
    # Zoneout (rnn/zoneout.py): its equations are the cell's own. In training,
    # each step reads its masks.
    if zoneout_masks is not None:
        zoneout_masks = tf.cast(zoneout_masks, sequences.dtype)
        lanes_zoneout = [_time_major_array(m, go_backwards, steps) for m in _split_batch(zoneout_masks, lanes)]
    if rec_dp_mask is not None:
        lanes_rec_dp = _split_batch(rec_dp_mask, lanes)
    lanes_reads = list(zip(lanes_inputs, lanes_keep, lanes_zoneout, lanes_rec_dp))
    states = [tf.convert_to_tensor(s) for s in initial_state]
    lanes_states = [list(parts) for parts in zip(*[_split_batch(s, lanes) for s in states])]
    # With a mask, the last output is carried: it can differ from the last state.
    lanes_last = [tf.zeros_like(s[0]) for s in lanes_states] if mask is not None else []
    # Per-step outputs only when asked for (an unused TensorArray still costs,
    # and XLA cannot differentiate an empty one).
    lanes_outputs = []
    if return_sequences:  # (each lane's element shape given: LiteRT lowers the lists with it)
        lanes_outputs = [tf.TensorArray(s[0].dtype, size=steps, element_shape=s[0].shape) for s in lanes_states]

    def lane_step(t, reads, states, last):
        """One step of one lane: (new states, its output)."""
        inputs, keep, zoneout, rec_dp = reads
        h_for_matmul = states[0] if rec_dp is None else states[0] * rec_dp
        new_states = cell_step(inputs.read(t), states, h_for_matmul)
        if zoneout_on:
            # Packed as the generic loop gets them at the end of a step's inputs.
            masks = None if zoneout is None else cell.zoneout_masks_by_state(zoneout.read(t))
            new_states = cell.apply_zoneout(states, new_states, training, masks)
        if keep is None:
            return new_states, new_states[0]
        # A masked step keeps the previous states; its output is zeros
        # (`zero_output_for_mask`) or the previous step's output, which is
        # zeros before the first unmasked step, not the initial state.
        keep_t = keep.read(t)
        output = tf.where(keep_t, new_states[0], tf.zeros_like(last) if layer.zero_output_for_mask else last)
        return [tf.where(keep_t, new, old) for new, old in zip(new_states, states)], output

    def body(t, lanes_states, lanes_last, lanes_outputs):
        lasts = lanes_last if mask is not None else [None] * lanes
        stepped = [lane_step(t, *lane) for lane in zip(lanes_reads, lanes_states, lasts)]
        outputs = [output for _, output in stepped]
        return (
            t + 1,
            [new_states for new_states, _ in stepped],
            outputs if mask is not None else [],
            [ta.write(t, output) for ta, output in zip(lanes_outputs, outputs)],
        )

    # maximum_iterations: XLA (jit_compile=True) needs a bound to differentiate the loop.
    loop_vars = (tf.constant(0), lanes_states, lanes_last, lanes_outputs)
    _, lanes_states, lanes_last, lanes_outputs = tf.while_loop(
        lambda t, *_: t < steps, body, loop_vars, maximum_iterations=steps
    )
    states = [tf.concat(parts, 0) if lanes > 1 else parts[0] for parts in zip(*lanes_states)]
    # Every cell's output is its first state; with a mask, the last step's output.
    last_output = states[0] if mask is None else tf.concat(lanes_last, 0)
    if return_sequences:
        outputs = tf.concat([ta.stack() for ta in lanes_outputs], 1)  # (T, B, units)
        outputs = tf.transpose(outputs, [1, 0, 2])
    else:
        outputs = tf.expand_dims(last_output, 1)  # unused by RNN.call
    return last_output, outputs, states
