"""GRU cell with layer normalization inside the recurrence."""

from tensorflow_lnrnn import activations
from tensorflow_lnrnn.rnn.gate_normalization import GateNormalization
from tensorflow_lnrnn.rnn.sequence_layer import LayerNormRNNBase
from tensorflow_lnrnn.rnn.zoneout import Zoneout
from tensorflow_lnrnn.utils import types
from tensorflow_lnrnn.utils.compat import dropout_masks, keras, ops, register_keras_serializable


@register_keras_serializable(package="LNRNN")
class LayerNormGRUCell(GateNormalization, Zoneout, keras.layers.GRUCell):
    """GRU cell with layer normalization of its input and recurrent projections.

    Neither Keras nor TensorFlow Addons has one. With Keras's gate order
    (z, r, h) and `reset_after=True`, at every step:

        xz = LN_kernel(x W) + b_input          # LN over all 3 gates
        hz = LN_recurrent(h U) + b_recurrent   # LN over all 3 gates
        z = sigmoid(xz_z + hz_z);  r = sigmoid(xz_r + hz_r)
        hh = tanh(xz_h + r * hz_h)
        h = z * h + (1 - z) * hh

    The weights keep `keras.layers.GRUCell`'s names and shapes (`kernel`,
    `recurrent_kernel`, `bias` of shape (2, 3 * units)), followed by the
    `kernel_norm` and `recurrent_norm` gains and shifts, so a trained
    `keras.layers.GRU`'s weights load into it unchanged.

    `reset_after=False` is refused: there the reset gate multiplies the state
    *before* the recurrent projection of the candidate, so that projection
    cannot be normalized together with the other two gates.

    Example:

    >>> inputs = np.random.random((32, 10, 8)).astype("float32")
    >>> rnn = keras.layers.RNN(LayerNormGRUCell(4), return_state=True)
    >>> output, final_state = rnn(inputs)
    >>> output.shape
    (32, 4)

    Args:
      units: Positive integer, dimensionality of the output space.
      activation: Activation of the candidate state (default `tanh`).
      recurrent_activation: Activation of the gates (default `sigmoid`).
      use_bias: Whether to add the input and recurrent biases after normalizing.
      kernel_initializer: Initializer of `kernel`, the input projection.
      recurrent_initializer: Initializer of `recurrent_kernel`.
      bias_initializer: Initializer of `bias`.
      kernel_regularizer: Regularizer of `kernel`.
      recurrent_regularizer: Regularizer of `recurrent_kernel`.
      bias_regularizer: Regularizer of `bias`.
      kernel_constraint: Constraint of `kernel`.
      recurrent_constraint: Constraint of `recurrent_kernel`.
      bias_constraint: Constraint of `bias`.
      dropout: Fraction in [0, 1) of the inputs to drop.
      recurrent_dropout: Fraction in [0, 1) of the recurrent state to drop.
      reset_after: Must be True (the Keras default); see above.
      norm_gamma_initializer: Initializer of the normalization gains.
      norm_beta_initializer: Initializer of the normalization shifts.
      norm_epsilon: Positive float added to the variance (default 1e-3).
      norm_center: If False, the normalizations have no shift (beta) weights
        (gain-only, as haste's); the biases remain.
      zoneout_output: Fraction in [0, 1) of the units of `h` that keep their
        previous value at each training step (Krueger et al., 2016; the
        expectation in inference).
      **kwargs: Other `keras.layers.GRUCell` / `Layer` arguments (`seed`, ...).
    """

    fast_path_family = "gru"  # see rnn/fast_path.py

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
        kernel_regularizer: types.Regularizer = None,
        recurrent_regularizer: types.Regularizer = None,
        bias_regularizer: types.Regularizer = None,
        kernel_constraint: types.Constraint = None,
        recurrent_constraint: types.Constraint = None,
        bias_constraint: types.Constraint = None,
        dropout: types.Number = 0.0,
        recurrent_dropout: types.Number = 0.0,
        reset_after: bool = True,
        norm_gamma_initializer: types.Initializer = "ones",
        norm_beta_initializer: types.Initializer = "zeros",
        norm_epsilon: types.Number = 1e-3,
        norm_center: bool = True,
        zoneout_output: types.Number = 0.0,
        **kwargs,
    ):
        if not reset_after:
            raise ValueError(
                "LayerNormGRUCell supports only `reset_after=True` (the Keras default): "
                "with `reset_after=False` the reset gate is applied before the recurrent "
                "projection, which then cannot be layer-normalized over all three gates."
            )
        kwargs.pop("implementation", None)  # Only the fused computation exists.
        super().__init__(
            types.check_positive_integer("units", units),
            activation=activations.portable(activation),
            recurrent_activation=activations.portable(recurrent_activation),
            use_bias=use_bias,
            kernel_initializer=kernel_initializer,
            recurrent_initializer=recurrent_initializer,
            bias_initializer=bias_initializer,
            kernel_regularizer=kernel_regularizer,
            recurrent_regularizer=recurrent_regularizer,
            bias_regularizer=bias_regularizer,
            kernel_constraint=kernel_constraint,
            recurrent_constraint=recurrent_constraint,
            bias_constraint=bias_constraint,
            dropout=types.check_rate("dropout", dropout),
            recurrent_dropout=types.check_rate("recurrent_dropout", recurrent_dropout),
            reset_after=True,
            **kwargs,
        )
        # One dropout mask for all three gates, not one per gate.
        self.implementation = 2
        self.dropout_mask_count = None
        self._init_normalizations(
            norm_gamma_initializer, norm_beta_initializer, norm_epsilon, norm_center, ("kernel_norm", "recurrent_norm")
        )
        self._init_zoneout(zoneout_output=zoneout_output)

    def build(self, input_shape):
        types.check_step_input_shape(self, input_shape)
        super().build(input_shape)
        self._build_normalizations({"kernel_norm": 3 * self.units, "recurrent_norm": 3 * self.units})

    def call(self, inputs, states, training=False):
        inputs, zoneout_masks = self._split_zoneout_masks(inputs)
        nested = isinstance(states, (list, tuple))
        h_tm1 = states[0] if nested else states
        dp_mask, rec_dp_mask = dropout_masks(self, inputs, h_tm1, training)
        if dp_mask is not None:
            inputs = inputs * dp_mask
        recurrent_input = h_tm1 if rec_dp_mask is None else h_tm1 * rec_dp_mask
        x = self.kernel_norm(ops.matmul(inputs, self.kernel))
        r = self.recurrent_norm(ops.matmul(recurrent_input, self.recurrent_kernel))
        if self.use_bias:
            x = x + self.bias[0]
            r = r + self.bias[1]
        x_z, x_r, x_h = ops.split(x, 3, axis=-1)
        r_z, r_r, r_h = ops.split(r, 3, axis=-1)
        z = self.recurrent_activation(x_z + r_z)
        reset = self.recurrent_activation(x_r + r_r)
        hh = self.activation(x_h + reset * r_h)
        h = z * h_tm1 + (1 - z) * hh
        (h,) = self.apply_zoneout([h_tm1], [h], training, zoneout_masks)
        return h, [h] if nested else h

    def get_config(self):
        return {**super().get_config(), **self._normalization_config(), **self._zoneout_config()}


@register_keras_serializable(package="LNRNN")
class LayerNormGRU(LayerNormRNNBase):
    """Gated Recurrent Unit layer with layer normalization.

    A drop-in for `keras.layers.GRU` with layer normalization inside the
    recurrence: `keras.layers.RNN(LayerNormGRUCell(...))` with the same weights and
    outputs, and a fast path (every backend) for the time loop.

    Arguments: those of `keras.layers.GRU`, in its order (a positional call
    means what it means there), then the `norm_*` and `zoneout_output` arguments of
    `LayerNormGRUCell`.
    Keras's `use_cudnn` is accepted as `"auto"` or `False` and means nothing
    here (cuDNN has no layer-normalized RNN): `True` is refused.
    `implementation` (1 or 2) is accepted and means nothing (one fused computation).
    """

    cell_class = LayerNormGRUCell

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
        reset_after: bool = True,
        use_cudnn: types.UseCudnn = "auto",
        norm_gamma_initializer: types.Initializer = "ones",
        norm_beta_initializer: types.Initializer = "zeros",
        norm_epsilon: types.Number = 1e-3,
        norm_center: bool = True,
        zoneout_output: types.Number = 0.0,
        **kwargs,
    ):
        self._init(locals(), kwargs)
