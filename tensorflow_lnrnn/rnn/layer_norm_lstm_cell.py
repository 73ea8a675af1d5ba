"""LSTM cell with layer normalization inside the recurrence."""

from tensorflow_lnrnn import activations
from tensorflow_lnrnn.rnn.gate_normalization import GateNormalization
from tensorflow_lnrnn.rnn.sequence_layer import LayerNormRNNBase
from tensorflow_lnrnn.rnn.zoneout import Zoneout
from tensorflow_lnrnn.utils import types
from tensorflow_lnrnn.utils.compat import dropout_masks, keras, ops, register_keras_serializable


@register_keras_serializable(package="LNRNN")
class LayerNormLSTMCell(GateNormalization, Zoneout, keras.layers.LSTMCell):
    """LSTM cell with layer normalization, a drop-in for `tfa.rnn.LayerNormLSTMCell`.

    Layer normalization (Ba et al., 2016, https://arxiv.org/abs/1607.06450) is
    applied at every time step, before the internal nonlinearities:

        z = LN_kernel(x W) + LN_recurrent(h U) + b     # each LN over all 4 gates
        i, f, g, o = split(z, 4)
        c = LN_state(sigmoid(f) * c + sigmoid(i) * tanh(g))
        h = sigmoid(o) * tanh(c)

    As in TensorFlow Addons, the *normalized* carry is the state passed to the
    next step. Arguments, defaults, weights (names and order) and outputs are
    those of Addons 0.23's `LayerNormLSTMCell`, so its weights load unchanged.
    Recurrent dropout follows Semeniuta et al. (https://arxiv.org/abs/1603.05118).

    Other conventions (docs/cells.md has the table): `carry_normalized_state=False`
    carries the raw `c = f * c + i * g` and normalizes it only for the output,
    `h = o * tanh(LN_state(c))`, as in the paper, haste, Sockeye and Lingvo;
    `norm_center=False` makes the gate normalizations gain-only (no beta
    weights; the bias after them is their shift), as haste's; `zoneout_output` / `zoneout_cell` add zoneout (Krueger et al., 2016)
    to `h` / `c`.

    Example:

    >>> inputs = np.random.random((30, 23, 9)).astype("float32")
    >>> rnn = keras.layers.RNN(LayerNormLSTMCell(4), return_state=True)
    >>> output, memory_state, carry_state = rnn(inputs)
    >>> output.shape
    (30, 4)

    Args:
      units: Positive integer, dimensionality of the output space.
      activation: Activation for the cell input and the output (default `tanh`).
        `None` means linear.
      recurrent_activation: Activation for the gates (default `sigmoid`).
      use_bias: Whether the cell uses a bias vector (added after normalization).
      kernel_initializer: Initializer of `kernel`, the input projection.
      recurrent_initializer: Initializer of `recurrent_kernel`.
      bias_initializer: Initializer of `bias`.
      unit_forget_bias: If True, add 1 to the forget gate bias at initialization
        (and force `bias_initializer="zeros"` for it).
      kernel_regularizer: Regularizer of `kernel`.
      recurrent_regularizer: Regularizer of `recurrent_kernel`.
      bias_regularizer: Regularizer of `bias`.
      kernel_constraint: Constraint of `kernel`.
      recurrent_constraint: Constraint of `recurrent_kernel`.
      bias_constraint: Constraint of `bias`.
      dropout: Fraction in [0, 1) of the inputs to drop.
      recurrent_dropout: Fraction in [0, 1) of the recurrent state to drop.
      norm_gamma_initializer: Initializer of the normalization gains.
      norm_beta_initializer: Initializer of the normalization shifts.
      norm_epsilon: Positive float added to the variance (default 1e-3).
      norm_center: If False, the normalizations of `x W` and `h U` have no
        shift (beta) weights: the bias is their shift. The cell state's keeps
        its shift (no bias follows it).
      carry_normalized_state: If True (Addons), the normalized cell state is
        carried to the next step; if False (the paper), the raw one is.
      zoneout_output: Fraction in [0, 1) of the units of `h` that keep their
        previous value at each training step (the expectation in inference).
      zoneout_cell: The same for the carried cell state `c`.
      **kwargs: Other `keras.layers.LSTMCell` / `Layer` arguments (`seed`,
        `name`, `dtype`, ...).
    """

    fast_path_family = "lstm"  # see rnn/fast_path.py
    zoneout_arguments = ("zoneout_output", "zoneout_cell")  # for the states (h, c)

    @types.typechecked
    def __init__(
        self,
        units: types.Integer,
        activation: types.Activation = "tanh",
        recurrent_activation: types.Activation = "sigmoid",
        use_bias: bool = True,
        kernel_initializer: types.Initializer = "glorot_uniform",
        recurrent_initializer: types.Initializer = "orthogonal",
        bias_initializer: types.Initializer = "zeros",
        unit_forget_bias: bool = True,
        kernel_regularizer: types.Regularizer = None,
        recurrent_regularizer: types.Regularizer = None,
        bias_regularizer: types.Regularizer = None,
        kernel_constraint: types.Constraint = None,
        recurrent_constraint: types.Constraint = None,
        bias_constraint: types.Constraint = None,
        dropout: types.Number = 0.0,
        recurrent_dropout: types.Number = 0.0,
        norm_gamma_initializer: types.Initializer = "ones",
        norm_beta_initializer: types.Initializer = "zeros",
        norm_epsilon: types.Number = 1e-3,
        norm_center: bool = True,
        carry_normalized_state: bool = True,
        zoneout_output: types.Number = 0.0,
        zoneout_cell: types.Number = 0.0,
        **kwargs,
    ):
        # Keras silently clips a bad dropout rate into [0, 1]: refuse it instead.
        kwargs.pop("implementation", None)  # Only the fused computation exists.
        super().__init__(
            types.check_positive_integer("units", units),
            activation=activations.portable(activation),
            recurrent_activation=activations.portable(recurrent_activation),
            use_bias=use_bias,
            kernel_initializer=kernel_initializer,
            recurrent_initializer=recurrent_initializer,
            bias_initializer=bias_initializer,
            unit_forget_bias=unit_forget_bias,
            kernel_regularizer=kernel_regularizer,
            recurrent_regularizer=recurrent_regularizer,
            bias_regularizer=bias_regularizer,
            kernel_constraint=kernel_constraint,
            recurrent_constraint=recurrent_constraint,
            bias_constraint=bias_constraint,
            dropout=types.check_rate("dropout", dropout),
            recurrent_dropout=types.check_rate("recurrent_dropout", recurrent_dropout),
            **kwargs,
        )
        # One dropout mask for all four gates (as in Addons), not one per gate.
        self.implementation = 2
        self.dropout_mask_count = None
        self._init_normalizations(
            norm_gamma_initializer,
            norm_beta_initializer,
            norm_epsilon,
            norm_center,
            ("kernel_norm", "recurrent_norm"),
            ("state_norm",),
        )
        self.carry_normalized_state = carry_normalized_state
        self._init_zoneout(zoneout_output=zoneout_output, zoneout_cell=zoneout_cell)
        # The gate normalizations run over 4 * units values; the state's over units.
        types.warn_if_normalizing_one_unit(self, self.units, "the cell state (`state_norm`)")

    def build(self, input_shape):
        types.check_step_input_shape(self, input_shape)
        super().build(input_shape)
        self._build_normalizations(
            {"kernel_norm": 4 * self.units, "recurrent_norm": 4 * self.units, "state_norm": self.units}
        )

    def call(self, inputs, states, training=False):
        inputs, zoneout_masks = self._split_zoneout_masks(inputs)
        h_tm1, c_tm1 = states[0], states[1]
        dp_mask, rec_dp_mask = dropout_masks(self, inputs, h_tm1, training)
        if dp_mask is not None:
            inputs = inputs * dp_mask
        if rec_dp_mask is not None:
            h_tm1 = h_tm1 * rec_dp_mask
        z = self.kernel_norm(ops.matmul(inputs, self.kernel))
        z = z + self.recurrent_norm(ops.matmul(h_tm1, self.recurrent_kernel))
        if self.use_bias:
            z = z + self.bias
        c, o = self._compute_carry_and_output_fused(ops.split(z, 4, axis=-1), c_tm1)
        normalized_c = self.state_norm(c)
        h = o * self.activation(normalized_c)
        if self.carry_normalized_state:
            c = normalized_c
        h, c = self.apply_zoneout([states[0], c_tm1], [h, c], training, zoneout_masks)
        return h, [h, c]

    def get_config(self):
        config = {"implementation": self.implementation, **self._normalization_config(), **self._zoneout_config()}
        if not self.carry_normalized_state:  # (left out when True: Addons' configs stay as they were)
            config["carry_normalized_state"] = False
        return {**super().get_config(), **config}


@register_keras_serializable(package="LNRNN")
class LayerNormLSTM(LayerNormRNNBase):
    """Long Short-Term Memory layer with layer normalization (Ba et al., 2016).

    A drop-in for `keras.layers.LSTM` with layer normalization inside the
    recurrence: `keras.layers.RNN(LayerNormLSTMCell(...))` with the same weights and
    outputs, and a fast path (every backend) for the time loop.

    Arguments: those of `keras.layers.LSTM`, in its order (a positional call
    means what it means there), then the `norm_*`, `carry_normalized_state` and
    `zoneout_*` arguments of `LayerNormLSTMCell`.
    Keras's `use_cudnn` is accepted as `"auto"` or `False` and means nothing
    here (cuDNN has no layer-normalized RNN): `True` is refused.
    `implementation` (1 or 2) is accepted and means nothing (one fused computation).
    """

    cell_class = LayerNormLSTMCell

    @types.typechecked
    def __init__(
        self,
        units: types.Integer,
        activation: types.Activation = "tanh",
        recurrent_activation: types.Activation = "sigmoid",
        use_bias: bool = True,
        kernel_initializer: types.Initializer = "glorot_uniform",
        recurrent_initializer: types.Initializer = "orthogonal",
        bias_initializer: types.Initializer = "zeros",
        unit_forget_bias: bool = True,
        kernel_regularizer: types.Regularizer = None,
        recurrent_regularizer: types.Regularizer = None,
        bias_regularizer: types.Regularizer = None,
        activity_regularizer: types.Regularizer = None,
        kernel_constraint: types.Constraint = None,
        recurrent_constraint: types.Constraint = None,
        bias_constraint: types.Constraint = None,
        dropout: types.Number = 0.0,
        recurrent_dropout: types.Number = 0.0,
        seed: types.Seed = None,
        return_sequences: bool = False,
        return_state: bool = False,
        go_backwards: bool = False,
        stateful: bool = False,
        unroll: bool = False,
        use_cudnn: types.UseCudnn = "auto",
        norm_gamma_initializer: types.Initializer = "ones",
        norm_beta_initializer: types.Initializer = "zeros",
        norm_epsilon: types.Number = 1e-3,
        norm_center: bool = True,
        carry_normalized_state: bool = True,
        zoneout_output: types.Number = 0.0,
        zoneout_cell: types.Number = 0.0,
        **kwargs,
    ):
        self._init(locals(), kwargs)
