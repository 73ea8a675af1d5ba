"""Fast whole-sequence loops for the TensorFlow backend.

What makes them fast, each measured with `benchmarks/rnn_benchmark.py` on CPU
(docs/performance.md has the numbers and what did not win):
- a layer normalization with a hand-written gradient (`tf_array_ops.py`):
  TensorFlow's autodiff of `tf.nn.moments` adds a dozen ops per step to the
  backward loop, this one three reductions;
- the loop reads time-major slices from a TensorArray (slicing a tensor inside
  the loop would make the backward pass build a full-size gradient per step),
  and only collects per-step outputs when `return_sequences` needs them;
- per-sequence dropout masks are Keras's own, drawn once and reused;
- on CPU, in inference with a large enough batch, the batch runs as two lanes
  in one loop (`loop_plan`): a step is a long chain of small ops (the
  normalizations are on the recurrence), and one chain keeps one of
  TensorFlow's executor threads idle most of the time; two independent chains
  fill both;
- in training with large kernels, their weight gradients are one matmul after
  the backward loop instead of one per step (`tf_hoisted_gradients.py`); for
  kernels of few rows, a projection's normalization takes its statistics
  from the kernel's Gram matrix, which keeps gate-wide ops off the
  recurrence's chain (the recurrent projection) and out of the step's work
  (the input's), forward and backward (`tf_array_ops.gram_projection`);
- an iteration of the loop runs several time steps (the plan's `unroll`),
  which share its control-flow ops, and where they are small, takes their
  input parts (the input's projection and its normalization) at once.
Computing the input projection and its normalization for all time steps at once,
before the loop, was measured and lost on CPU (memory-bound on a (B, T, 4H)
tensor), as did compiling the loop with XLA; see docs/performance.md.
The steps' math is the cells', written once for every fast path in
`fused_steps.py`; `tests/rnn/sequence_layer_test.py` checks the fast loop
against the generic one and against NumPy, values and gradients.
"""

from typing import NamedTuple, Optional

import tensorflow as tf

from tensorflow_lnrnn.rnn import fused_steps, tf_hoisted_gradients
from tensorflow_lnrnn.rnn.tf_array_ops import TFArrayOps
from tensorflow_lnrnn.utils.compat import dropout_masks


class LoopPlan(NamedTuple):
    """How `run` lays out the loop; the numbers are the same either way (up to
    rounding). `lanes`: the batch in that many independent lanes.
    `hoist_from`: kernels with at least that many (rows, columns) get their
    weight gradients hoisted out of the backward loop
    (`tf_hoisted_gradients.py`); None: none. `gram_up_to`: a recurrent
    kernel of at most that many rows normalizes its projection by its Gram
    matrix (`tf_array_ops.gram_projection`); None: not.
    `gram_input_up_to`: the same for the input kernel (rows: the input's
    features).
    `unroll`: time steps per iteration of the loop (the steps left over
    after the last whole iteration run in a second loop, one per
    iteration); with a length known only at run time, for layers without
    `return_sequences` only (`run`).
    `chunk_inputs`: with several steps per iteration, the iteration takes
    its steps' input parts (the input's projection and its normalization,
    `fused_steps.make_step_parts`) at once, on all their rows, where the
    input kernel's weight gradient stays in the loop."""

    lanes: int
    hoist_from: Optional[tuple[int, int]]
    gram_up_to: Optional[int] = None
    unroll: int = 1
    chunk_inputs: bool = False
    gram_input_up_to: Optional[int] = None


# Measured on a 2-core CPU (docs/performance.md, "Loop plans"). Inference: two
# lanes fill both cores (four were slower), where a lane's ops have enough
# rows and units to outweigh the ops a lane adds (each op is mostly dispatch
# below that: batches of 2-16, or 64 units, lost up to 2x); a batch known only
# at run time counts as large (served batches). Training: lanes lost (each
# lane's matmuls and weight gradients stream the kernels again); hoisting a
# kernel's weight gradient won for kernels of 512 x 512 and more (the kernel
# and its per-step gradient outgrow the caches: 0.88-0.99 of the step's time;
# the SimpleRNN's, of one gate's width, from 1024 x 1024, below),
# and was even or lost for smaller ones (the per-step matmuls are cheap there,
# and run beside the chain of small ops on the recurrence; a 512 x 128 kernel:
# 1.26). The Gram-matrix normalization of the recurrent projection, in
# training: 0.82-0.96 of the step's time at 64-128 units, even or a loss from
# 192 (its two (B, H) x (H, H) matmuls per step outweigh the wide ops they
# remove); in inference even (nothing is kept for a backward loop there).
# The same for the input projection's normalization: 0.93-0.96 of the
# step's time for the LSTM and GRU with 16-32 input features (sessions 12 and
# 18, Intel and AMD machines): off the chain, the gate-wide ops it removes
# were still work for the executor's threads; even at 48-64 features, and a
# loss at 128 (session 18: the large LSTM's training 1.16-1.20 of Keras's
# LSTM with it, where an Intel machine had read it even): its two (B, input) x (input, input)
# matmuls per step outgrow what it removes.
# Several time steps per loop iteration, in training: each iteration's
# control-flow ops (a few per loop variable, forward and backward, some on the
# recurrence's chain) are shared by its steps, which counts where a step is
# mostly dispatch: LSTM and GRU by two, 0.79-0.93 of the time with batches of
# 8-64 and 32-128 units, even at the benchmark's sizes (0.93-1.03), where
# four lost (up to 1.17); the SimpleRNN, whose step has a third of an LSTM's
# ops, by four: 0.70-0.97, and 0.94 at 512 units. In inference by four: in
# two lanes 0.91-1.01; in one lane the LSTM 0.70-0.79 and the SimpleRNN
# 0.70-0.88, but the GRU lost at batches of 16-64 (1.12-1.30; only with
# grappler's rewrites on, which no single pass of them explains), so one.
# With a length known only at run time (session 10, batch and length
# dynamic, small size), in training as above (SimpleRNN 0.72-0.84, GRU
# 0.87-1.00, LSTM 1.00-1.01), but not in inference (1.00-1.11).
LANES = 2
LANES_FROM = (32, 128)  # (static batch, units)
# The SimpleRNN's lanes need more rows x units (session 9: at 32-48 x 128
# they lost, 1.14-1.54; at 32 x 256 and 96 x 128 they won, 0.86).
LANES_FROM_SIZE = {"simple_rnn": 64 * 128}  # static batch x units
HOIST_FROM = (512, 512)
# The SimpleRNN's kernels have one gate's width: its 512 x 512 recurrent
# kernel is a quarter of the LSTM's 512 x 2048, and hoisting it lost
# (hoisted / not, training: 1.06-1.14 at 32 x 512 and 16 x 768 units, on
# the AMD EPYC machines of sessions 18 and 20; session 6's machine read 0.92
# at 32 x 512); at 1024 units (the LSTM's 512-unit kernel's size) it won on
# both (0.85-0.88).
HOIST_FROM_BY_FAMILY = {"simple_rnn": (1024, 1024)}
GRAM_UP_TO = 128
GRAM_INPUT_UP_TO = 32
UNROLL_IN_TRAINING = {"lstm": 2, "gru": 2, "simple_rnn": 4}
UNROLL_IN_INFERENCE = {"lstm": (4, 4), "gru": (1, 4), "simple_rnn": (4, 4)}  # (one lane, two lanes)
# An iteration's input parts at once (session 11): fewer, larger ops, which
# pays until they grow large enough for TensorFlow to split each over its
# intra-op threads, which the lanes and the chain's ops already keep busy:
# at most this many elements (steps x a lane's rows x the gates' width).
CHUNK_UP_TO_IN_TRAINING, CHUNK_UP_TO_IN_INFERENCE = 16384, 65536
GATES = {"lstm": 4, "gru": 3, "simple_rnn": 1}


def loop_plan(family, batch_size, units, training, static_length=True):
    """The `LoopPlan` for a call: `family` the cell's (`fused_steps.FAMILIES`),
    `batch_size` static (an int) or None; `units` the cell's; `static_length`:
    whether the length is known when the loop is traced."""
    if any(tf.config.list_logical_devices(kind) for kind in ("GPU", "TPU")):
        # Accelerators: one kernel per op, on the whole batch, is what they
        # want. (A graph keeps the plan it was traced with, wherever it runs.)
        return LoopPlan(lanes=1, hoist_from=None)
    if training:
        unroll = UNROLL_IN_TRAINING[family]
        chunk = _chunk_inputs(family, batch_size, units, unroll, training)
        return LoopPlan(
            lanes=1,
            hoist_from=HOIST_FROM_BY_FAMILY.get(family, HOIST_FROM),
            gram_up_to=GRAM_UP_TO,
            unroll=unroll,
            chunk_inputs=chunk,
            gram_input_up_to=GRAM_INPUT_UP_TO,
        )
    min_batch, min_units = LANES_FROM
    min_size = LANES_FROM_SIZE.get(family, 0)
    large = (batch_size is None or (batch_size >= min_batch and batch_size * units >= min_size)) and units >= min_units
    lanes = LANES if large else 1
    unroll = UNROLL_IN_INFERENCE[family][large] if static_length else 1
    lane_rows = None if batch_size is None else -(-batch_size // lanes)
    chunk = _chunk_inputs(family, lane_rows, units, unroll, training)
    return LoopPlan(lanes=lanes, hoist_from=None, unroll=unroll, chunk_inputs=chunk)


def _chunk_inputs(family, lane_rows, units, unroll, training):
    """`LoopPlan.chunk_inputs` for a lane of `lane_rows` (None: known only at
    run time, counted as large)."""
    if unroll == 1 or lane_rows is None:
        return False
    most = CHUNK_UP_TO_IN_TRAINING if training else CHUNK_UP_TO_IN_INFERENCE
    return unroll * lane_rows * GATES[family] * units <= most


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


def _at_least_one(count):
    """A loop's `count`, or where it is known only at run time, at least one
    (for `maximum_iterations`: XLA sizes the stacks autodiff keeps for the
    backward loop by it, and checks the body's pushes against them even
    where the loop runs no iteration)."""
    return count if isinstance(count, int) else tf.maximum(count, 1)


def _time_major(tensor, go_backwards):
    """A (B, T, ...) tensor as (T, B, ...), in processing order."""
    time_major = tf.transpose(tensor, [1, 0] + list(range(2, len(tensor.shape))))
    return tf.reverse(time_major, [0]) if go_backwards else time_major


def _array(time_major, size):
    """A (T, ...) tensor as a TensorArray of its T steps: per-step reads whose
    gradient stays per-step."""
    return tf.TensorArray(time_major.dtype, size=size).unstack(time_major)


def _time_major_array(tensor, go_backwards, size):
    """A (B, T, ...) tensor as a TensorArray of its T steps, in processing order."""
    return _array(_time_major(tensor, go_backwards), size)


def _size(tensor, axis):
    return tensor.shape[axis] if tensor.shape[axis] is not None else tf.shape(tensor)[axis]


def _reshaped(tensor, shape):
    """`tf.reshape` with static sizes where all are (LiteRT wants them)."""
    return tf.reshape(tensor, shape if all(isinstance(size, int) for size in shape) else tf.stack(shape))


def _merge_leading_axes(tensor):
    """(N, M, ...) -> (N * M, ...)."""
    sizes = [_size(tensor, axis) for axis in range(len(tensor.shape))]
    return _reshaped(tensor, [sizes[0] * sizes[1], *sizes[2:]])


def _chunks(time_major, unroll, iterations, input_part):
    """The (T, B, input) inputs of an unrolled loop: (a TensorArray of each
    whole iteration's inputs, (unroll * B, input), its steps' rows one step
    after the other; and a TensorArray of the input parts of the steps left
    over, (B, width) each, or None where none are). The left-over steps come
    padded with zeros to a whole chunk, whose input part is taken at once
    before their loop (so that neither array is empty where the length is
    known only at run time: XLA reads them even in a loop of no iteration)."""
    steps, batch, width = (_size(time_major, axis) for axis in range(3))
    divides = isinstance(steps, int) and steps % unroll == 0
    count = iterations if divides else iterations + 1  # (known only at run time: one more where it divides, unused)
    if not divides:
        time_major = tf.pad(time_major, [[0, unroll - steps % unroll], [0, 0], [0, 0]])
    # (The lane's rows as -1: ONNX's Reshape reads a 0 as "the input's size
    # there", which an empty lane's would be; and the steps given, since it
    # cannot infer a -1 beside a 0.)
    static = isinstance(batch, int)
    chunks = _reshaped(time_major, [count, unroll * batch if static else -1, width])
    inputs = tf.TensorArray(time_major.dtype, size=count).unstack(chunks)
    if divides:
        return inputs, None
    left_over = input_part(chunks[iterations])  # (unroll * B, width)
    left_over = _reshaped(left_over, [unroll, batch if static else -1, left_over.shape[-1]])
    return inputs, tf.TensorArray(left_over.dtype, size=unroll).unstack(left_over)


# Graph code as written (Keras 2 converts a layer's call with AutoGraph, which
# mis-resolved a helper's name inside this function's closures).
@tf.autograph.experimental.do_not_convert
def run(family, layer, sequences, initial_state, mask, training, zoneout_masks=None):
    """Keras's `inner_loop` contract: returns (last_output, outputs, states),
    with the masking semantics of Keras's TensorFlow `backend.rnn`.
    `zoneout_masks`: (B, T, ...) in training when the cell has zoneout, else None.

    On CPU the batch is run as independent lanes in the same loop where
    `loop_plan` says so: each step's ops on one half do not wait for the
    other's, so TensorFlow's executor runs the two chains of small ops side by
    side, where one chain leaves a core idle (rows are independent: the same
    numbers)."""
    cell = layer.cell
    # Integer and bool inputs: as `RNN(cell)`, whose matmuls promote them.
    sequences = tf.cast(sequences, cell.compute_dtype)
    # Keras's own per-sequence masks (Keras 2 and 3 name them differently).
    dp_mask, rec_dp_mask = dropout_masks(cell, sequences[:, 0], initial_state[0], training)
    if dp_mask is not None:
        sequences = sequences * tf.expand_dims(dp_mask, 1)  # the same mask at every step
    plan = loop_plan(family, sequences.shape[0], cell.units, training, static_length=sequences.shape[1] is not None)
    lanes = plan.lanes
    array_ops = TFArrayOps(plan.gram_up_to, plan.gram_input_up_to)
    if plan.hoist_from is not None:
        array_ops = tf_hoisted_gradients.HoistedArrayOps(plan.hoist_from, plan.gram_up_to, plan.gram_input_up_to)
    input_part, recurrent_part = fused_steps.make_step_parts(family, cell, array_ops)
    hoisted_kernels = getattr(array_ops, "kernels", [])  # (the ones big enough)
    zoneout_on = bool(cell.zoneout_rates())
    go_backwards, return_sequences = layer.go_backwards, layer.return_sequences
    # The static length where there is one, as Keras's own loop does: a tensor
    # there makes tf2onnx type the ONNX Loop's counter inconsistently (onnxruntime
    # refuses the file: "Tensor element type mismatch").
    steps = sequences.shape[1] if sequences.shape[1] is not None else tf.shape(sequences)[1]

    # Per lane: its rows of everything that has a batch axis; time-major
    # TensorArrays of what is read per step, in processing order.
    lanes_sequences = _split_batch(sequences, lanes)
    # Unrolled, an iteration takes its steps' input parts (the projection of
    # the input and its normalization) in one go, on all their rows at once,
    # where the input kernel's weight gradient stays in the loop.
    unroll = plan.unroll if isinstance(steps, int) or not return_sequences else 1
    iterations = steps // unroll if unroll > 1 else steps  # (a tensor where the length is dynamic)
    chunked = plan.chunk_inputs and unroll > 1 and not array_ops.hoists(cell.kernel.shape)
    lanes_time_major = [_time_major(x, go_backwards) for x in lanes_sequences]
    if chunked:
        lanes_chunks, lanes_inputs = zip(*[_chunks(x, unroll, iterations, input_part) for x in lanes_time_major])
    else:
        lanes_chunks = [None] * lanes
        lanes_inputs = [_array(x, steps) for x in lanes_time_major]
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
    lanes_probes = [None] * lanes
    if hoisted_kernels:
        lanes_probes = [tf_hoisted_gradients.LaneProbes(hoisted_kernels, steps, _size(x, 0)) for x in lanes_sequences]
    lanes_reads = list(zip(lanes_keep, lanes_zoneout, lanes_rec_dp, lanes_probes))
    states = [tf.convert_to_tensor(s) for s in initial_state]
    lanes_states = [list(parts) for parts in zip(*[_split_batch(s, lanes) for s in states])]
    # With a mask, the last output is carried: it can differ from the last state.
    lanes_last = [tf.zeros_like(s[0]) for s in lanes_states] if mask is not None else []

    def lane_step(t, x, reads, states, last, recorded):
        """One step of one lane: (new states, its output, its recorded matmul
        inputs). `x`: the step's input part, or a function of none that makes it."""
        keep, zoneout, rec_dp, probes = reads
        h_for_matmul = states[0] if rec_dp is None else states[0] * rec_dp

        def cell_step():
            return recurrent_part(x() if callable(x) else x, states, h_for_matmul)

        if probes is None:
            new_states = cell_step()
        else:  # the weight gradients hoisted: each matmul's input recorded for after the loop
            new_states, matmul_inputs = array_ops.step(probes.read(t), cell_step)
            recorded = [array.write(t, a) for array, a in zip(recorded, matmul_inputs)]
        if zoneout_on:
            # Packed as the generic loop gets them at the end of a step's inputs.
            masks = None if zoneout is None else cell.zoneout_masks_by_state(zoneout.read(t))
            new_states = cell.apply_zoneout(states, new_states, training, masks)
        if keep is None:
            return new_states, new_states[0], recorded
        # A masked step keeps the previous states; its output is zeros
        # (`zero_output_for_mask`) or the previous step's output, which is
        # zeros before the first unmasked step, not the initial state.
        keep_t = keep.read(t)
        output = tf.where(keep_t, new_states[0], tf.zeros_like(last) if layer.zero_output_for_mask else last)
        return [tf.where(keep_t, new, old) for new, old in zip(new_states, states)], output, recorded

    def step(t, lanes_x, lanes_states, lanes_last, lanes_recorded):
        """Step `t` of every lane (`lanes_x`: each lane's input part, or a
        function that makes it): (new states, the carried last outputs, the
        outputs, the recorded inputs)."""
        lasts = lanes_last if mask is not None else [None] * lanes
        stepped = [lane_step(t, *lane) for lane in zip(lanes_x, lanes_reads, lanes_states, lasts, lanes_recorded)]
        outputs = [output for _, output, _ in stepped]
        new_states = [new_states for new_states, _, _ in stepped]
        return new_states, outputs if mask is not None else [], outputs, [recorded for _, _, recorded in stepped]

    def loop(first, count, unroll, lanes_inputs, lanes_states, lanes_last, lanes_recorded):
        """`count` iterations of `unroll` steps each, from step `first`: (states,
        last outputs, recorded inputs, and per lane, with `return_sequences`,
        the (count * unroll, B, units) outputs). Each iteration writes its
        outputs as one element, at its own index: tf2onnx makes an ONNX Loop's
        scan outputs only of such writes."""
        # Per-step outputs only when asked for (an unused TensorArray still costs,
        # and XLA cannot differentiate an empty one); each lane's element shape
        # given: LiteRT lowers the lists with it.
        lanes_outputs = []
        for states in lanes_states if return_sequences else []:
            element_shape = states[0].shape if unroll == 1 else tf.TensorShape([unroll]).concatenate(states[0].shape)
            lanes_outputs.append(tf.TensorArray(states[0].dtype, size=count, element_shape=element_shape))

        # The main loop of an unrolled plan reads its iterations' inputs as
        # chunks; otherwise a step reads its own, from an array of every
        # step, or in the loop of the steps left over, of those.
        by_chunks = chunked and unroll > 1

        def body(i, lanes_states, lanes_last, lanes_outputs, lanes_recorded):
            outputs = []
            start = i * unroll if unroll > 1 else i  # the iteration's first step, once
            start = start if isinstance(first, int) and first == 0 else start + first
            if by_chunks:  # (unroll * B, input) -> unroll x (B, width)
                lanes_parts = [tf.split(input_part(inputs.read(i)), unroll, axis=0) for inputs in lanes_inputs]
            for k in range(unroll):
                t = start + k if k else start
                if by_chunks:
                    lanes_x = [parts[k] for parts in lanes_parts]
                elif chunked:  # the steps left over: their input parts, taken before the loop
                    lanes_x = [parts.read(i) for parts in lanes_inputs]
                else:  # (read where the step runs: its weight gradients may be hoisted)
                    lanes_x = [lambda inputs=inputs, t=t: input_part(inputs.read(t)) for inputs in lanes_inputs]
                lanes_states, lanes_last, lanes_step_outputs, lanes_recorded = step(
                    t, lanes_x, lanes_states, lanes_last, lanes_recorded
                )
                outputs.append(lanes_step_outputs)
            if unroll > 1:
                outputs = [[tf.stack(lane_outputs) for lane_outputs in zip(*outputs)]]
            writes = [ta.write(i, output) for ta, output in zip(lanes_outputs, outputs[0])]
            return i + 1, lanes_states, lanes_last, writes, lanes_recorded

        loop_vars = (tf.constant(0), lanes_states, lanes_last, lanes_outputs, lanes_recorded)
        # maximum_iterations: XLA (jit_compile=True) needs a bound to differentiate the loop.
        _, lanes_states, lanes_last, lanes_outputs, lanes_recorded = tf.while_loop(
            lambda i, *_: i < count, body, loop_vars, maximum_iterations=_at_least_one(count)
        )
        lanes_sequences = [_merge_leading_axes(ta.stack()) if unroll > 1 else ta.stack() for ta in lanes_outputs]
        return lanes_states, lanes_last, lanes_recorded, lanes_sequences

    lanes_recorded = [[] if probes is None else probes.recorded for probes in lanes_probes]
    loop_state = (lanes_states, lanes_last, lanes_recorded)
    # Several steps per iteration; the steps left over after the last whole
    # iteration (fewer than `unroll`) run in a second loop, one per
    # iteration, with its own outputs (XLA crashed the process on left-over
    # steps run in Python after the loop). A length known only at run time
    # makes both loops' counts known only then, and either may run no
    # iteration: fine for the states, but a list of outputs left empty cannot
    # be stacked where the batch is dynamic too (and converters do not take
    # the workaround, a stack with its element shape given at run time), so
    # with `return_sequences` such a length runs one step per iteration.
    lanes_sequences = [[] for _ in range(lanes)]
    loops = [(0, iterations, unroll, lanes_chunks if chunked else lanes_inputs)]
    if unroll > 1:
        loops.append((iterations * unroll, steps % unroll, 1, lanes_inputs))
    for first, count, steps_per_iteration, inputs in loops:
        if isinstance(count, int) and count == 0 and steps != 0:  # (no sequence at all: one empty loop)
            continue
        *loop_state, sequences = loop(first, count, steps_per_iteration, inputs, *loop_state)
        for parts, lane_sequences in zip(lanes_sequences, sequences):
            parts.append(lane_sequences)
    if return_sequences:
        lanes_sequences = [tf.concat(parts, 0) if len(parts) > 1 else parts[0] for parts in lanes_sequences]
    lanes_states, lanes_last, lanes_recorded = loop_state
    for probes, recorded in zip(lanes_probes, lanes_recorded):
        if probes is not None:
            probes.finish(recorded)  # what the kernels' gradients multiply, after the loop
    states = [tf.concat(parts, 0) if lanes > 1 else parts[0] for parts in zip(*lanes_states)]
    # Every cell's output is its first state; with a mask, the last step's output.
    last_output = states[0] if mask is None else tf.concat(lanes_last, 0)
    if return_sequences:
        outputs = tf.concat(lanes_sequences, 1) if lanes > 1 else lanes_sequences[0]  # (T, B, units)
        outputs = tf.transpose(outputs, [1, 0, 2])
    else:
        outputs = tf.expand_dims(last_output, 1)  # unused by RNN.call
    return last_output, outputs, states
