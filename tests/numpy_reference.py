"""Independent NumPy implementations of the cells, written from DESIGN.md.

They share no code with the package: tests compare the package against them.
Each ``*_step`` takes one time step's input (B, D), the list of states, the
cell's weights in ``cell.get_weights()`` order and the cell's config, and
returns ``(output, new_states)``.
"""

import numpy as np

ACTIVATIONS = {
    None: lambda x: x,
    "linear": lambda x: x,
    "tanh": np.tanh,
    "sigmoid": lambda x: 1.0 / (1.0 + np.exp(-x)),
    "relu": lambda x: np.maximum(x, 0.0),
    "softsign": lambda x: x / (1.0 + np.abs(x)),
}


def activation(name):
    if isinstance(name, dict):  # a serialized activation
        name = name.get("config", name.get("class_name"))
    return ACTIVATIONS[name]


def layer_norm(v, gamma, beta, epsilon):
    mean = v.mean(axis=-1, keepdims=True)
    variance = v.var(axis=-1, keepdims=True)
    out = gamma * (v - mean) / np.sqrt(variance + epsilon)
    return out if beta is None else out + beta


def lstm_step(x, states, weights, config):
    h, c = states
    weights = list(weights)
    kernel, recurrent_kernel = weights.pop(0), weights.pop(0)
    bias = weights.pop(0) if config["use_bias"] else 0.0
    k_gamma, k_beta, r_gamma, r_beta, s_gamma, s_beta = _gains_and_shifts(weights, config)
    eps = config["norm_epsilon"]
    act, rec_act = activation(config["activation"]), activation(config["recurrent_activation"])
    z = layer_norm(x @ kernel, k_gamma, k_beta, eps)
    z = z + layer_norm(h @ recurrent_kernel, r_gamma, r_beta, eps) + bias
    i, f, g, o = np.split(z, 4, axis=-1)
    c = rec_act(f) * c + rec_act(i) * act(g)
    normalized_c = layer_norm(c, s_gamma, s_beta, eps)
    h = rec_act(o) * act(normalized_c)
    # Addons carries the normalized state; the paper (carry_normalized_state=False) the raw one.
    return h, [h, normalized_c if config.get("carry_normalized_state", True) else c]


def _gains_and_shifts(weights, config):
    """(gamma, beta) per normalization. With `norm_center=False` the two gate
    normalizations have gains only (beta None); the LSTM's state normalization
    keeps gain and shift."""
    if config.get("norm_center", True):
        return weights
    k_gamma, r_gamma, *state = weights
    return [k_gamma, None, r_gamma, None, *state]


# The zoneout argument of each state, in state order.
ZONEOUT_ARGUMENTS = {
    "lstm": ("zoneout_output", "zoneout_cell"),
    "gru": ("zoneout_output",),
    "simple_rnn": ("zoneout_output",),
}


def zoneout(family, config, previous, new, training, masks_t=None):
    """Krueger et al. (2016): a unit keeps its previous value where the mask is
    1 (training), or the expectation p * previous + (1 - p) * new (inference).
    `masks_t`: this step's masks, the zoned-out states' side by side."""
    rates = [(i, config.get(name, 0.0)) for i, name in enumerate(ZONEOUT_ARGUMENTS[family])]
    rates = [(i, p) for i, p in rates if p > 0]
    new = list(new)
    for k, (i, p) in enumerate(rates):
        if training:
            units = new[i].shape[-1]
            keep = masks_t[:, k * units : (k + 1) * units] > 0.5
            new[i] = np.where(keep, previous[i], new[i])
        else:
            new[i] = p * previous[i] + (1 - p) * new[i]
    return new


def gru_step(x, states, weights, config):
    """DESIGN.md's LayerNormGRUCell, reset_after=True, gate order z, r, h."""
    (h,) = states
    weights = list(weights)
    kernel, recurrent_kernel = weights.pop(0), weights.pop(0)
    bias = weights.pop(0) if config["use_bias"] else np.zeros((2, kernel.shape[1]))
    k_gamma, k_beta, r_gamma, r_beta = _gains_and_shifts(weights, config)
    eps = config["norm_epsilon"]
    act, rec_act = activation(config["activation"]), activation(config["recurrent_activation"])
    xz = layer_norm(x @ kernel, k_gamma, k_beta, eps) + bias[0]
    hz = layer_norm(h @ recurrent_kernel, r_gamma, r_beta, eps) + bias[1]
    x_z, x_r, x_h = np.split(xz, 3, axis=-1)
    h_z, h_r, h_h = np.split(hz, 3, axis=-1)
    z = rec_act(x_z + h_z)
    r = rec_act(x_r + h_r)
    candidate = act(x_h + r * h_h)
    h = z * h + (1.0 - z) * candidate
    return h, [h]


def simple_rnn_step(x, states, weights, config):
    (h,) = states
    weights = list(weights)
    kernel, recurrent_kernel = weights.pop(0), weights.pop(0)
    bias = weights.pop(0) if config["use_bias"] else 0.0
    (gamma,) = weights
    net = layer_norm(x @ kernel + h @ recurrent_kernel, gamma, None, config["layernorm_epsilon"])
    h = activation(config["activation"])(net + bias)
    return h, [h]


def run_sequence(
    step,
    weights,
    config,
    inputs,
    initial_states,
    mask=None,
    go_backwards=False,
    zero_output_for_mask=False,
    masked_output_starts_at_state=False,
    training=False,
    zoneout_masks=None,
):
    """Runs ``step`` over (B, T, D) inputs with Keras RNN semantics.

    Masked steps keep the previous states and output zeros
    (``zero_output_for_mask``) or the previous step's output, which is zeros
    before the first step, whatever the initial states: Keras's TensorFlow and
    torch loops. Keras's JAX loop (`lax.scan`) outputs the first state instead,
    which differs only before the first unmasked step of a sequence with a
    non-zero initial state: ``masked_output_starts_at_state=True``.
    With ``go_backwards`` the sequence (and mask) is read last step first, and
    the outputs come back in that processing order, as Keras returns them.
    Zoneout (the config's ``zoneout_*``) is applied after the cell's step, before
    masking: the expectation unless ``training``, where ``zoneout_masks``
    (B, T, units * zoned-out states), aligned with ``inputs``, say which units
    keep their previous value.
    Returns ``(sequences, final_states)``.
    """
    inputs = np.asarray(inputs, dtype="float64")
    states = [np.asarray(s, dtype="float64") for s in initial_states]
    weights = [np.asarray(w, dtype="float64") for w in weights]
    steps = range(inputs.shape[1])
    if go_backwards:
        steps = reversed(steps)
    previous_output = states[0] if masked_output_starts_at_state else np.zeros_like(states[0])
    outputs = []
    for t in steps:
        output, new_states = step(inputs[:, t], states, weights, config)
        if any(config.get(name, 0.0) for name in ZONEOUT_ARGUMENTS[STEP_FAMILY[step]]):
            masks_t = None if zoneout_masks is None else np.asarray(zoneout_masks)[:, t]
            new_states = zoneout(STEP_FAMILY[step], config, states, new_states, training, masks_t)
            output = new_states[0]
        if mask is not None:
            keep = np.asarray(mask)[:, t, None].astype(bool)
            output = np.where(keep, output, 0.0 if zero_output_for_mask else previous_output)
            new_states = [np.where(keep, n, s) for n, s in zip(new_states, states)]
        outputs.append(output)
        states, previous_output = new_states, output
    return np.stack(outputs, axis=1), states


STEP_FAMILY = {lstm_step: "lstm", gru_step: "gru", simple_rnn_step: "simple_rnn"}
