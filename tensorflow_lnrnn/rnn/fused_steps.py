"""The fast paths' time steps, one per cell family, written once for every
array library that has a fast path (TensorFlow: `tf_fast_path.py`, JAX:
`jax_fast_path.py`, PyTorch: `torch_fast_path.py`).

A step is the cell's `call` without Keras's per-step bookkeeping: the layer
normalizations are the fast path's own (`array_ops.layer_norm`, with a
hand-written gradient), dropout masks come in drawn once per sequence, and
zoneout is left to the loop. Each step comes in two parts
(`make_step_parts`): what it takes from its input alone (the input's
projection, normalized for the LSTM and GRU), which a loop may apply to
several steps' rows at once, and the rest. The projections' kernels are centered once per
call (`_centered`), so the normalizations of `x W` and `h U` need no mean.
`array_ops` is the library's namespace: `matmul`, `split`,
`layer_norm(v, gamma, beta, epsilon, centered=False)`, `float32(x)`,
`center_columns(w)`, `read(variable)` (how a weight is read for the loop)
and `normalized_projection(kernel, gamma, shift, epsilon, recurrent)`, which
returns `v -> LN(v kernel) * gamma + shift` for a centered kernel, prepared
once per call (`recurrent`: the recurrent kernel's, on the recurrence's
chain, or the input's, off it), by `plain_projection` below, or otherwise
where it is faster (`tf_array_ops.py`, `jax_fast_path.py`). The equations
are the cells' (`layer_norm_*_cell.py`);
`tests/rnn/fast_path_test.py` and `tests/robustness/masking_test.py` pin every
step to its cell on every option, values and gradients, on every backend with
a fast path.
"""


def _optional(array_ops, variable):
    return None if variable is None else array_ops.read(variable)


def _centered(kernel, array_ops):
    """The kernel with each row's mean over its columns subtracted: `x W_c` is
    `x W` minus its mean over the last axis, exactly (the mean is linear in x),
    so a normalization of it skips its mean, forward and backward, at every step."""
    return array_ops.center_columns(array_ops.read(kernel))


def plain_projection(array_ops, kernel, gamma, shift, epsilon, recurrent=False):
    """`normalized_projection` as the namespace's `layer_norm` of its `matmul`
    (for either kernel: `recurrent` is taken for the namespaces' signature)."""
    return lambda v: array_ops.layer_norm(array_ops.matmul(v, kernel), gamma, shift, epsilon, centered=True)


def _projection(kernel, norm, array_ops, recurrent=False):
    """`v -> LN(v W) * gamma + shift` for the kernel W and the normalization
    `norm` (`_norm`'s (gamma, shift, epsilon)), by the namespace;
    `recurrent`: W is the recurrent kernel (its projection is on the
    recurrence's chain, the input's is not)."""
    return array_ops.normalized_projection(_centered(kernel, array_ops), *norm, recurrent=recurrent)


def _norm(norm_layer, array_ops, *shifts):
    """(gamma, shift, epsilon) of a normalization: its beta and `shifts` (read
    vectors that are added right after it, or None) folded into one vector
    before the loop: one add per step, and one gradient reduction, not one per
    vector."""
    shift = None
    for vector in (_optional(array_ops, norm_layer.beta), *shifts):
        if vector is not None:  # in float32, where `layer_norm` adds it (beta is not autocast, a bias is)
            vector = array_ops.float32(vector)
            shift = vector if shift is None else shift + vector
    return array_ops.read(norm_layer.gamma), shift, norm_layer.epsilon


def _lstm(cell, array_ops):
    read, layer_norm = array_ops.read, array_ops.layer_norm
    # z = LN_k(x W) + LN_r(h U) + bias, with beta_k + beta_r + bias as LN_k's one shift.
    bias = read(cell.bias) if cell.use_bias else None
    k_norm = _norm(cell.kernel_norm, array_ops, _optional(array_ops, cell.recurrent_norm.beta), bias)
    r_gamma, _, r_epsilon = _norm(cell.recurrent_norm, array_ops)
    input_projection = _projection(cell.kernel, k_norm, array_ops)
    recurrent_projection = _projection(cell.recurrent_kernel, (r_gamma, None, r_epsilon), array_ops, recurrent=True)
    s_norm = _norm(cell.state_norm, array_ops)
    act, rec_act = cell.activation, cell.recurrent_activation
    carry_normalized_state = cell.carry_normalized_state

    def step(x_part, states, h_for_matmul):
        h, c = states
        z = x_part + recurrent_projection(h_for_matmul)
        i, f, g, o = array_ops.split(z, 4, axis=-1)
        c = rec_act(f) * c + rec_act(i) * act(g)
        normalized_c = layer_norm(c, *s_norm)
        h = rec_act(o) * act(normalized_c)
        return [h, normalized_c if carry_normalized_state else c]

    return input_projection, step


def _gru(cell, array_ops):
    read = array_ops.read
    input_bias = recurrent_bias = None
    if cell.use_bias:
        bias = read(cell.bias)
        input_bias, recurrent_bias = bias[0], bias[1]
    # x = LN_k(x W) + input_bias, r = LN_r(h U) + recurrent_bias: each bias folded into its norm's shift.
    k_norm = _norm(cell.kernel_norm, array_ops, input_bias)
    input_projection = _projection(cell.kernel, k_norm, array_ops)
    r_norm = _norm(cell.recurrent_norm, array_ops, recurrent_bias)
    recurrent_projection = _projection(cell.recurrent_kernel, r_norm, array_ops, recurrent=True)
    act, rec_act = cell.activation, cell.recurrent_activation

    def step(x, states, h_for_matmul):
        (h,) = states
        r = recurrent_projection(h_for_matmul)
        x_z, x_r, x_h = array_ops.split(x, 3, axis=-1)
        r_z, r_r, r_h = array_ops.split(r, 3, axis=-1)
        z = rec_act(x_z + r_z)
        h = z * h + (1 - z) * act(x_h + rec_act(x_r + r_r) * r_h)
        return [h]

    return input_projection, step


def _simple_rnn(cell, array_ops):
    read, matmul = array_ops.read, array_ops.matmul
    kernel, recurrent_kernel = _centered(cell.kernel, array_ops), _centered(cell.recurrent_kernel, array_ops)
    bias = read(cell.bias) if cell.use_bias else None
    gamma, epsilon = read(cell.layernorm.gamma), cell.layernorm.epsilon
    act = cell.activation

    def step(x_part, states, h_for_matmul):
        net = x_part + matmul(h_for_matmul, recurrent_kernel)
        out = array_ops.layer_norm(net, gamma, None, epsilon, centered=True)
        if bias is not None:
            out = out + bias
        if act is not None:
            out = act(out)
        return [out]

    return (lambda x: matmul(x, kernel)), step


FAMILIES = {"lstm": _lstm, "gru": _gru, "simple_rnn": _simple_rnn}


def make_step_parts(family, cell, array_ops):
    """The step of `cell` (of `family`, its `fast_path_family`) in its two
    parts: `input_part(x) -> x_part`, what the step takes from its input
    alone (rows in, rows out: it can run on several steps' rows at once), and
    `recurrent_part(x_part, states, h_for_matmul) -> new states`, where
    `h_for_matmul` is the first state with the recurrent dropout mask applied."""
    return FAMILIES[family](cell, array_ops)


def make_step(family, cell, array_ops):
    """The step of `cell` as one function `(x_t, states, h_for_matmul) -> new
    states` (`make_step_parts`'s two parts, one after the other)."""
    input_part, recurrent_part = make_step_parts(family, cell, array_ops)
    return lambda x_t, states, h_for_matmul: recurrent_part(input_part(x_t), states, h_for_matmul)
