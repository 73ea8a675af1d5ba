"""Fast whole-sequence loop for the JAX backend: `jax.lax.scan` over the fused
step of `fused_steps.py`.

What makes it faster than Keras's generic loop over the cell (measured with
`benchmarks/rnn_benchmark.py --backend jax`; docs/performance.md has the numbers
and what did not win):
- a layer normalization with a hand-written gradient (`jax.custom_vjp`): the
  backward loop keeps the normalized values and the inverse deviation of each
  step and computes the input gradient in three reductions, where autodiff of
  the mean and the variance keeps more and runs more small kernels per step;
- in training, the normalization of a projection by a kernel of few rows
  (the input's, at the small sizes) through the kernel's Gram matrix
  (`gram_projection`, as the TF fast path's): no gate-wide op in its forward
  or backward step but the matmul and its scaling;
- no per-step Keras bookkeeping (sublayer calls, autocasting, the nested
  state structures of the generic loop), and per-step outputs are collected
  only when `return_sequences` needs them.
Measured and dropped (docs/performance.md): normalizing the input projection
of all steps at once before the loop, unrolling the scan, and a hand-written
backward pass for the whole loop with the weight gradients as one matmul after
it.

Masking follows Keras's JAX `backend.rnn`, which the generic loop on this
backend runs: a masked step keeps the states, and its output is zeros
(`zero_output_for_mask`) or the previous step's first state.
"""

import functools

import jax
import jax.numpy as jnp

from tensorflow_lnrnn.rnn import fused_steps
from tensorflow_lnrnn.utils.compat import dropout_masks


@functools.partial(jax.custom_vjp, nondiff_argnums=(2, 3))
def _normalize(v, gamma, epsilon, centered):
    return _normalize_forward(v, gamma, epsilon, centered)[0]


def _normalize_forward(v, gamma, epsilon, centered):
    deviation = v if centered else v - jnp.mean(v, axis=-1, keepdims=True)
    inverse_std = jax.lax.rsqrt(jnp.mean(jnp.square(deviation), axis=-1, keepdims=True) + epsilon)
    normalized = deviation * inverse_std
    return normalized * gamma, (normalized, inverse_std, gamma)


def _normalize_backward(epsilon, centered, residuals, upstream):
    normalized, inverse_std, gamma = residuals
    scaled = upstream * gamma
    d_v = scaled - normalized * jnp.mean(scaled * normalized, axis=-1, keepdims=True)
    if not centered:
        d_v = d_v - jnp.mean(scaled, axis=-1, keepdims=True)
    d_v = inverse_std * d_v
    d_gamma = jnp.sum(upstream * normalized, axis=tuple(range(upstream.ndim - 1)))
    return d_v, d_gamma


_normalize.defvjp(_normalize_forward, _normalize_backward)


def layer_norm(v, gamma, beta, epsilon, centered=False):
    """LN over the last axis; statistics in float32 (for mixed precision).
    `centered`: v's mean over the last axis is zero by construction (a
    projection by centered columns, `fused_steps._centered`)."""
    dtype = v.dtype
    out = _normalize(v.astype(jnp.float32), gamma.astype(jnp.float32), float(epsilon), centered)
    if beta is not None:
        out = out + beta.astype(jnp.float32)
    return out.astype(dtype)


@functools.partial(jax.custom_vjp, nondiff_argnums=(3,))
def _gram_normalize(v, scaled_kernel, gram, epsilon):
    return _gram_normalize_forward(v, scaled_kernel, gram, epsilon)[0]


def _gram_normalize_forward(v, scaled_kernel, gram, epsilon):
    v_gram = v @ gram
    # (The clamp: rounding can take `v G v^T` a little below zero where the
    # true variance is zero; the gradient below ignores it.)
    variance = jnp.maximum(jnp.sum(v * v_gram, axis=-1, keepdims=True), 0.0)
    inverse_std = jax.lax.rsqrt(variance + epsilon)
    return (v @ scaled_kernel) * inverse_std, (v, v_gram, inverse_std, scaled_kernel)


def _gram_normalize_backward(epsilon, residuals, upstream):
    # out = (v K') s(v), K' = K gamma, s = (v G v^T + eps)^-1/2.
    v, v_gram, inverse_std, scaled_kernel = residuals
    back = upstream @ scaled_kernel.T
    d_variance = jnp.sum(back * v, axis=-1, keepdims=True) * (-0.5 * inverse_std**3)
    d_v = inverse_std * back + (2.0 * d_variance) * v_gram
    d_scaled_kernel = (inverse_std * v).T @ upstream
    d_gram = (d_variance * v).T @ v
    return d_v, d_scaled_kernel, d_gram


_gram_normalize.defvjp(_gram_normalize_forward, _gram_normalize_backward)


def gram_projection(kernel, gamma, shift, epsilon):
    """`v -> LN(v kernel) * gamma + shift` for a float32 (K, N) kernel with
    centered columns, by its Gram matrix `G = kernel kernel^T / N`: the
    variance of `v kernel` is `v G v^T`. The JAX form of
    `tf_array_ops.gram_projection` (which says why it is exact, and how it
    rounds); the hand-written gradient keeps `v`, `v G` and the inverse std
    per step instead of the (B, N) normalized product, so neither direction
    has an N-wide op but the matmul and its scaling. It costs two (B, K) x
    (K, K) matmuls per step: it pays in training, for kernels of few rows
    (`GRAM_UP_TO_IN_TRAINING`, docs/performance.md)."""
    scaled_kernel = kernel * gamma.astype(jnp.float32)
    gram = (kernel @ kernel.T) / kernel.shape[-1]
    epsilon = float(epsilon)

    def project(v):
        out = _gram_normalize(v, scaled_kernel, gram, epsilon)
        return out if shift is None else out + shift

    return project


# Kernels of at most this many rows are normalized by their Gram matrix in
# training (`gram_projection`): 0.95-0.98 of the plain loop's time for the
# small LSTM and GRU (input 32), where 128 rows (the recurrent kernel too)
# read 0.93-1.02 and lost at the large size (input 128: 1.01-1.06). In
# inference none is: it ties the plain projection there (1.00-1.01, session 22;
# docs/performance.md, "What was tried").
GRAM_UP_TO_IN_TRAINING = 64


class JaxArrayOps:
    """`fused_steps.py`'s namespace for JAX. `gram_up_to`: projections by
    float32 kernels of at most that many rows are normalized by their Gram
    matrix (`gram_projection`); None: none."""

    def __init__(self, gram_up_to=None):
        self.gram_up_to = gram_up_to

    matmul = staticmethod(jnp.matmul)
    split = staticmethod(jnp.split)
    layer_norm = staticmethod(layer_norm)
    float32 = staticmethod(lambda x: jnp.asarray(x).astype(jnp.float32))
    read = staticmethod(lambda variable: variable.value)  # (the stateless scope's value, autocast)
    center_columns = staticmethod(lambda w: w - jnp.mean(w, axis=-1, keepdims=True))

    def normalized_projection(self, kernel, gamma, shift, epsilon, recurrent=False):  # (either kernel alike)
        gram = self.gram_up_to is not None and kernel.dtype == jnp.float32
        if gram and kernel.shape[0] <= self.gram_up_to:
            return gram_projection(kernel, gamma, shift, epsilon)
        return fused_steps.plain_projection(self, kernel, gamma, shift, epsilon)


def _time_major(x):
    return jnp.swapaxes(x, 0, 1)


def run(family, layer, sequences, initial_state, mask, training, zoneout_masks=None):
    """Keras's `inner_loop` contract: returns (last_output, outputs, states),
    outputs in processing order, as Keras's JAX `backend.rnn`.
    `zoneout_masks`: (B, T, ...) in training when the cell has zoneout, else None."""
    cell = layer.cell
    # Integer and bool inputs: as `RNN(cell)`, whose matmuls promote them.
    sequences = jnp.asarray(sequences).astype(cell.compute_dtype)
    # Keras's own per-sequence masks, drawn by `RNN.call` before the loop.
    dp_mask, rec_dp_mask = dropout_masks(cell, sequences[:, 0], initial_state[0], training)
    if dp_mask is not None:
        sequences = sequences * jnp.expand_dims(dp_mask, 1)  # the same mask at every step
    array_ops = JaxArrayOps(GRAM_UP_TO_IN_TRAINING if training else None)
    cell_step = fused_steps.make_step(family, cell, array_ops)
    zoneout_on = bool(cell.zoneout_rates())
    zero_output_for_mask = layer.zero_output_for_mask
    return_sequences = layer.return_sequences

    xs = {"inputs": _time_major(sequences)}
    if zoneout_masks is not None:
        xs["zoneout"] = _time_major(jnp.asarray(zoneout_masks).astype(sequences.dtype))
    if mask is not None:
        xs["keep"] = jnp.expand_dims(_time_major(jnp.asarray(mask).astype(bool)), -1)  # (T, B, 1)

    def step(carry, x):
        states = carry[0]
        h_for_matmul = states[0] if rec_dp_mask is None else states[0] * rec_dp_mask
        new_states = cell_step(x["inputs"], states, h_for_matmul)
        if zoneout_on:
            masks = cell.zoneout_masks_by_state(x["zoneout"]) if "zoneout" in x else None
            new_states = cell.apply_zoneout(states, new_states, training, masks)
        output = new_states[0]
        if "keep" not in x:
            return (list(new_states),), (output if return_sequences else None)
        # A masked step keeps the states; its output is zeros or the previous first state.
        keep = x["keep"]
        output = jnp.where(keep, output, jnp.zeros_like(output) if zero_output_for_mask else states[0])
        new_states = [jnp.where(keep, new, old) for new, old in zip(new_states, states)]
        return (list(new_states), output), (output if return_sequences else None)

    states = [jnp.asarray(s) for s in initial_state]
    # With a mask the last output is carried (it can differ from the last state).
    carry = (states,) if mask is None else (states, jnp.zeros_like(states[0]))
    carry, outputs = jax.lax.scan(step, carry, xs, reverse=layer.go_backwards)
    states = carry[0]
    last_output = states[0] if mask is None else carry[1]
    if return_sequences:
        if layer.go_backwards:
            outputs = jnp.flip(outputs, axis=0)  # processing order
        outputs = _time_major(outputs)
    else:
        outputs = jnp.expand_dims(last_output, 1)  # unused by RNN.call
    return last_output, outputs, states
