"""Fast whole-sequence loop for the PyTorch backend: a Python loop over the
fused step of `fused_steps.py`, with PyTorch's own layer normalization kernel.

Keras's generic loop on PyTorch is a Python loop too; what costs there is
calling the cell as a Keras layer at every step (and its three
`LayerNormalization` sublayers, each a Keras layer call), and Keras's
normalization as several eager ops forward and backward. Here each step is a
handful of tensor ops, and each normalization is one
`torch.nn.functional.layer_norm` call, whose backward is one kernel too.

Masking follows Keras's PyTorch `backend.rnn` (the same as TensorFlow's): a
masked step keeps the states; its output is zeros (`zero_output_for_mask`) or
the previous step's output, zeros before the first unmasked step.
"""

import torch
import torch.nn.functional as F

from tensorflow_lnrnn.rnn import fused_steps
from tensorflow_lnrnn.utils.compat import dropout_masks


def layer_norm(v, gamma, beta, epsilon, centered=False):
    """LN over the last axis; statistics in float32 (for mixed precision).
    `centered` is not used: PyTorch's kernel is one call with or without the
    mean (and `center_columns` leaves the weights as they are)."""
    bias = None if beta is None else beta.float()
    return F.layer_norm(v.float(), (v.shape[-1],), gamma.float(), bias, epsilon).to(v.dtype)


class TorchArrayOps:
    """`fused_steps.py`'s namespace for PyTorch."""

    matmul = staticmethod(torch.matmul)
    split = staticmethod(lambda x, parts, axis: torch.chunk(x, parts, dim=axis))
    layer_norm = staticmethod(layer_norm)
    float32 = staticmethod(lambda x: x.float())
    read = staticmethod(lambda variable: variable.value)  # (autocast, as in the cell's call)
    center_columns = staticmethod(lambda w: w)  # (see `layer_norm`)
    normalized_projection = classmethod(fused_steps.plain_projection)


def run(family, layer, sequences, initial_state, mask, training, zoneout_masks=None):
    """Keras's `inner_loop` contract: returns (last_output, outputs, states),
    outputs in processing order, as Keras's PyTorch `backend.rnn`.
    `zoneout_masks`: (B, T, ...) in training when the cell has zoneout, else None."""
    cell = layer.cell
    dtype = getattr(torch, cell.compute_dtype)
    # Integer and bool inputs: as `RNN(cell)`, whose matmuls promote them.
    sequences = sequences.to(dtype)
    # Keras's own per-sequence masks, drawn by `RNN.call` before the loop.
    dp_mask, rec_dp_mask = dropout_masks(cell, sequences[:, 0], initial_state[0], training)
    if dp_mask is not None:
        sequences = sequences * dp_mask.unsqueeze(1)  # the same mask at every step
    cell_step = fused_steps.make_step(family, cell, TorchArrayOps)
    zoneout_on = bool(cell.zoneout_rates())

    # Converted once here, not at every step.
    keep_masks = None if mask is None else mask.bool().unsqueeze(-1)  # (B, T, 1)
    if zoneout_masks is not None:
        zoneout_masks = zoneout_masks.to(dtype)
    order = range(sequences.shape[1] - 1, -1, -1) if layer.go_backwards else range(sequences.shape[1])
    # The steps' inputs unbound once, not sliced per step: the gradient of
    # `unbind` is one stack, where each slice's is a zero tensor of the whole
    # sequence (a stacked layer's training: 0.90-0.96 of the time).
    steps_inputs = sequences.unbind(1)
    states = list(initial_state)
    output = torch.zeros_like(states[0])
    outputs = []
    for t in order:
        h_for_matmul = states[0] if rec_dp_mask is None else states[0] * rec_dp_mask
        new_states = cell_step(steps_inputs[t], states, h_for_matmul)
        if zoneout_on:
            masks = None if zoneout_masks is None else cell.zoneout_masks_by_state(zoneout_masks[:, t])
            new_states = cell.apply_zoneout(states, new_states, training, masks)
        if mask is None:
            states, output = list(new_states), new_states[0]
        else:
            keep = keep_masks[:, t]
            states = [torch.where(keep, new, old) for new, old in zip(new_states, states)]
            previous = torch.zeros_like(output) if layer.zero_output_for_mask else output
            output = torch.where(keep, new_states[0], previous)
        if layer.return_sequences:
            outputs.append(output)
    outputs = torch.stack(outputs, dim=1) if layer.return_sequences else output.unsqueeze(1)
    return output, outputs, states
