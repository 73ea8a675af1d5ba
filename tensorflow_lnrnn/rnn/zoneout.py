"""Zoneout (Krueger et al., 2016, https://arxiv.org/abs/1606.01305) for our cells.

In training, each unit of a zoned-out state keeps its previous value with
probability `rate`, with a fresh Bernoulli mask at every step; in inference the
state is the expectation, `rate * previous + (1 - rate) * new`.

Where the masks come from:
- Our whole-sequence layers (Keras 3) draw the masks of all steps before the
  loop, from the cell's seed generator, and hand each step its slice (appended to
  the step's inputs; `cell.zoneout_masks_in_inputs`). This works on every
  backend's loop (JAX's `lax.scan` cannot draw fresh random numbers per step from
  a seed generator) and lets the fast path and the generic loop use the very
  same masks.
- A cell inside `keras.layers.RNN` draws a mask at each step itself (TensorFlow,
  torch, Keras 2). On JAX that cannot work (see above) and is refused.
"""

from tensorflow_lnrnn.utils import types
from tensorflow_lnrnn.utils.compat import IS_KERAS_3, keras, ops


class Zoneout:
    """Mixin for our cells: `zoneout_*` arguments, one per state that can be zoned out.

    Subclasses list `zoneout_arguments`: the argument name for each state, in
    state order (`None` for a state without zoneout).
    """

    zoneout_arguments = ("zoneout_output",)

    def _init_zoneout(self, **rates):
        for name, rate in rates.items():
            setattr(self, name, types.check_rate(name, rate))
        # Set by the layer around its loop when each step's inputs end with the masks.
        self.zoneout_masks_in_inputs = False

    def zoneout_rates(self):
        """(state index, rate) of every state with zoneout on."""
        return [
            (index, getattr(self, name))
            for index, name in enumerate(self.zoneout_arguments)
            if name is not None and getattr(self, name) > 0.0
        ]

    def draw_zoneout_masks(self, sequences):
        """Masks for every step of `sequences` (B, T, D), drawn before the loop:
        (B, T, units * number of zoned-out states), 1 where a unit keeps its
        previous value, in the inputs' dtype."""
        batch, steps = ops.shape(sequences)[0], ops.shape(sequences)[1]
        masks = []
        for _, rate in self.zoneout_rates():
            uniform = keras.random.uniform((batch, steps, self.units), seed=self.seed_generator)
            masks.append(ops.cast(uniform < rate, sequences.dtype))
        return ops.concatenate(masks, axis=-1)

    def _split_zoneout_masks(self, inputs):
        """(inputs, per-state masks or None) for one step."""
        if not self.zoneout_masks_in_inputs:
            return inputs, None
        width = self.units * len(self.zoneout_rates())
        return inputs[..., :-width], self.zoneout_masks_by_state(inputs[..., -width:])

    def zoneout_masks_by_state(self, masks):
        """{state index: mask} from one step's slice of `draw_zoneout_masks`."""
        units = self.units
        return {index: masks[..., k * units : (k + 1) * units] for k, (index, _) in enumerate(self.zoneout_rates())}

    def apply_zoneout(self, previous, new, training, masks):
        """The states after zoneout, from the states before (`previous`) and the
        cell's new states."""
        rates = self.zoneout_rates()
        if not rates:
            return new
        new = list(new)
        for index, rate in rates:
            if training:
                keep = masks[index] if masks is not None else self._draw_step_mask(new[index], rate)
                new[index] = ops.where(keep > 0.5, previous[index], new[index])
            else:
                new[index] = rate * previous[index] + (1.0 - rate) * new[index]
        return new

    def _draw_step_mask(self, state, rate):
        if not IS_KERAS_3:  # Keras 2: a stateful op, fresh at every loop iteration
            return ops.cast(self._random_generator.random_uniform(ops.shape(state)) < rate, state.dtype)
        if keras.backend.backend() == "jax":
            raise ValueError(
                f"{type(self).__name__}: zoneout in training cannot run inside "
                "`keras.layers.RNN` on the JAX backend, whose loop (`lax.scan`) cannot "
                "draw a fresh random mask at every step. Use the whole-sequence layer "
                "(LayerNormLSTM, LayerNormGRU, LayerNormSimpleRNN), which draws the "
                "masks of all steps before the loop, or another backend."
            )
        uniform = keras.random.uniform(ops.shape(state), seed=self.seed_generator)
        return ops.cast(uniform < rate, state.dtype)

    def _zoneout_config(self):
        # Only rates that are on: a config without them stays loadable by Addons.
        return {name: getattr(self, name) for name in self.zoneout_arguments if name and getattr(self, name) > 0.0}
