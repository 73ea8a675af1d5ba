"""What LayerNormLSTMCell and LayerNormGRUCell share: their `norm_*` arguments
and the `LayerNormalization` sublayers built from them."""

from tensorflow_lnrnn.utils import types
from tensorflow_lnrnn.utils.compat import build_sublayer, keras


class GateNormalization:
    """Mixin for cells with `norm_gamma_initializer`, `norm_beta_initializer`,
    `norm_epsilon` and `norm_center` arguments shared by several normalizations."""

    def _init_normalizations(self, gamma_initializer, beta_initializer, epsilon, center, gate_names, other_names=()):
        """Stores the arguments and creates one sublayer per name (as attributes).

        `gate_names`: the normalizations of the gate pre-activations, which a
        bias follows. `center=False` makes them gain-only (no beta weights: the
        bias is their shift), as haste's. `other_names` (the LSTM's cell state,
        which no bias follows) keep their shift.
        """
        self.norm_gamma_initializer = keras.initializers.get(gamma_initializer)
        self.norm_beta_initializer = keras.initializers.get(beta_initializer)
        self.norm_epsilon = types.check_epsilon("norm_epsilon", epsilon)
        self.norm_center = center
        for name in gate_names:
            setattr(self, name, self._create_norm_layer(name, center))
        for name in other_names:
            setattr(self, name, self._create_norm_layer(name, True))

    def _create_norm_layer(self, name, center):
        return keras.layers.LayerNormalization(
            epsilon=self.norm_epsilon,
            center=center,
            gamma_initializer=self.norm_gamma_initializer,
            beta_initializer=self.norm_beta_initializer,
            dtype=self.dtype_policy,
            name=name,
        )

    def _build_normalizations(self, sizes):
        """`sizes`: {sublayer name: normalized size}."""
        for name, size in sizes.items():
            build_sublayer(getattr(self, name), (None, size))

    def _normalization_config(self):
        config = {
            "norm_gamma_initializer": keras.initializers.serialize(self.norm_gamma_initializer),
            "norm_beta_initializer": keras.initializers.serialize(self.norm_beta_initializer),
            "norm_epsilon": self.norm_epsilon,
        }
        if not self.norm_center:  # (left out when True: Addons' configs stay as they were)
            config["norm_center"] = False
        return config
