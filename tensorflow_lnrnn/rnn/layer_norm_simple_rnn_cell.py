"""Simple RNN cell with layer normalization inside the recurrence."""

from tensorflow_lnrnn import activations
from tensorflow_lnrnn.rnn.sequence_layer import LayerNormRNNBase
from tensorflow_lnrnn.rnn.zoneout import Zoneout
from tensorflow_lnrnn.utils import types
from tensorflow_lnrnn.utils.compat import (
    build_sublayer,
    dropout_masks,
    keras,
    ops,
    register_keras_serializable,
)


@register_keras_serializable(package="LNRNN")
class LayerNormSimpleRNNCell(Zoneout, keras.layers.SimpleRNNCell):
    """Simple RNN cell with layer normalization, a drop-in for `tfa.rnn.LayerNormSimpleRNNCell`.

    The whole pre-activation is normalized with a scale-only layer normalization
    (a gain `gamma`, no shift); the bias is added after the normalization and
    plays the shift's role (Ba et al., 2016, https://arxiv.org/abs/1607.06450):

        h = activation(LN_gamma(x W + h U) + b)

    Arguments, defaults, weights (`kernel`, `recurrent_kernel`, `bias`, `gamma`,
    in that order), `get_config()` keys and outputs are those of Addons 0.23's
    `LayerNormSimpleRNNCell`.

    Example:

    >>> inputs = np.random.random((32, 10, 8)).astype("float32")
    >>> rnn = keras.layers.RNN(LayerNormSimpleRNNCell(4), return_state=True)
    >>> output, final_state = rnn(inputs)
    >>> output.shape
    (32, 4)

    Args:
      units: Positive integer, dimensionality of the output space.
      activation: Activation (default `tanh`); `None` means linear.
      use_bias: Whether to add a bias vector after the normalization.
      layernorm_epsilon: Positive float added to the variance (default 1e-5).
      kernel_initializer: Initializer of `kernel`, the input projection.
      recurrent_initializer: Initializer of `recurrent_kernel`.
      bias_initializer: Initializer of `bias`.
      gamma_initializer: Initializer of the normalization gain `gamma` (default `ones`).
      kernel_regularizer: Regularizer of `kernel`.
      recurrent_regularizer: Regularizer of `recurrent_kernel`.
      bias_regularizer: Regularizer of `bias`.
      gamma_regularizer: Regularizer of `gamma`.
      kernel_constraint: Constraint of `kernel`.
      recurrent_constraint: Constraint of `recurrent_kernel`.
      bias_constraint: Constraint of `bias`.
      gamma_constraint: Constraint of `gamma`.
      dropout: Fraction in [0, 1) of the inputs to drop.
      recurrent_dropout: Fraction in [0, 1) of the recurrent state to drop.
      zoneout_output: Fraction in [0, 1) of the units of the state that keep
        their previous value at each training step (Krueger et al., 2016; the
        expectation in inference).
      **kwargs: Other `keras.layers.SimpleRNNCell` / `Layer` arguments.
    """

    fast_path_family = "simple_rnn"  # see rnn/fast_path.py

    @types.typechecked
    def __init__(
        self,
        units: types.Integer,
        activation: types.Activation = "tanh",
        use_bias: bool = True,
        layernorm_epsilon: types.Number = 1e-05,
        kernel_initializer: types.Initializer = "glorot_uniform",
        recurrent_initializer: types.Initializer = "orthogonal",
        bias_initializer: types.Initializer = "zeros",
        gamma_initializer: types.Initializer = "ones",
        kernel_regularizer: types.Regularizer = None,
        recurrent_regularizer: types.Regularizer = None,
        bias_regularizer: types.Regularizer = None,
        gamma_regularizer: types.Regularizer = None,
        kernel_constraint: types.Constraint = None,
        recurrent_constraint: types.Constraint = None,
        bias_constraint: types.Constraint = None,
        gamma_constraint: types.Constraint = None,
        dropout: types.Number = 0.0,
        recurrent_dropout: types.Number = 0.0,
        zoneout_output: types.Number = 0.0,
        **kwargs,
    ):
        super().__init__(
            types.check_positive_integer("units", units),
            activation=activations.portable(activation),
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
            **kwargs,
        )
        self.layernorm = keras.layers.LayerNormalization(
            axis=-1,
            epsilon=types.check_epsilon("layernorm_epsilon", layernorm_epsilon),
            center=False,
            scale=True,
            gamma_initializer=gamma_initializer,
            gamma_regularizer=gamma_regularizer,
            gamma_constraint=gamma_constraint,
            dtype=self.dtype_policy,
            name="layernorm",
        )
        self._init_zoneout(zoneout_output=zoneout_output)
        types.warn_if_normalizing_one_unit(self, self.units, "the pre-activation")

    def build(self, input_shape):
        types.check_step_input_shape(self, input_shape)
        super().build(input_shape)
        build_sublayer(self.layernorm, (None, self.units))

    def call(self, inputs, states, training=False):
        inputs, zoneout_masks = self._split_zoneout_masks(inputs)
        nested = isinstance(states, (list, tuple))
        prev_output = states[0] if nested else states
        dp_mask, rec_dp_mask = dropout_masks(self, inputs, prev_output, training)
        if dp_mask is not None:
            inputs = inputs * dp_mask
        if rec_dp_mask is not None:
            prev_output = prev_output * rec_dp_mask
        net = ops.matmul(inputs, self.kernel) + ops.matmul(prev_output, self.recurrent_kernel)
        output = self.layernorm(net)
        if self.bias is not None:  # after the normalization: it is the shift
            output = output + self.bias
        if self.activation is not None:
            output = self.activation(output)
        (output,) = self.apply_zoneout([states[0] if nested else states], [output], training, zoneout_masks)
        return output, [output] if nested else output

    # The normalization's arguments live on its sublayer; read them here too.
    layernorm_epsilon = property(lambda self: self.layernorm.epsilon)
    gamma_initializer = property(lambda self: self.layernorm.gamma_initializer)
    gamma_regularizer = property(lambda self: self.layernorm.gamma_regularizer)
    gamma_constraint = property(lambda self: self.layernorm.gamma_constraint)

    def get_config(self):
        config = super().get_config()
        del config["name"]  # As Addons does: its config has no name.
        config.update(
            layernorm_epsilon=self.layernorm_epsilon,
            gamma_initializer=keras.initializers.serialize(self.gamma_initializer),
            gamma_regularizer=keras.regularizers.serialize(self.gamma_regularizer),
            gamma_constraint=keras.constraints.serialize(self.gamma_constraint),
            **self._zoneout_config(),
        )
        return config


@register_keras_serializable(package="LNRNN")
class LayerNormSimpleRNN(LayerNormRNNBase):
    """Fully-connected RNN layer with layer normalization.

    A drop-in for `keras.layers.SimpleRNN` with layer normalization inside the
    recurrence: `keras.layers.RNN(LayerNormSimpleRNNCell(...))` with the same weights and
    outputs, and a fast path (every backend) for the time loop.

    Arguments: those of `keras.layers.SimpleRNN`, in its order (a positional call
    means what it means there), then `layernorm_epsilon`, the `gamma_*` arguments and `zoneout_output` of
    `LayerNormSimpleRNNCell`.
    """

    cell_class = LayerNormSimpleRNNCell

    @types.typechecked
    def __init__(
        self,
        units: types.Integer,
        activation: types.Activation = "tanh",
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
        return_sequences: bool = False,
        return_state: bool = False,
        go_backwards: bool = False,
        stateful: bool = False,
        unroll: bool = False,
        seed: types.Seed = None,
        layernorm_epsilon: types.Number = 1e-05,
        gamma_initializer: types.Initializer = "ones",
        gamma_regularizer: types.Regularizer = None,
        gamma_constraint: types.Constraint = None,
        zoneout_output: types.Number = 0.0,
        **kwargs,
    ):
        self._init(locals(), kwargs)
