"""The base of the whole-sequence layers (`LayerNormLSTM`, ...): `keras.layers.RNN`
around one of our cells, with the cell's arguments flattened into the layer's,
as `keras.layers.LSTM` does, and a fast path for the time loop."""

import inspect

from tensorflow_lnrnn.rnn import fast_path
from tensorflow_lnrnn.utils.compat import IS_KERAS_3, keras, ops

RNN_ARGUMENTS = ("return_sequences", "return_state", "go_backwards", "stateful", "unroll")
# Arguments of Keras's LSTM/GRU/SimpleRNN that belong to the layer, not the cell.
LAYER_ARGUMENTS = RNN_ARGUMENTS + ("activity_regularizer", "use_cudnn", "seed")
# Keys of the cell's config that do not become the layer's: the layer has its
# own, or (implementation) they mean nothing for our cells.
NOT_FROM_CELL_CONFIG = ("name", "trainable", "dtype", "implementation") + RNN_ARGUMENTS


def _argument_names(cls):
    """The named constructor arguments of a class (not self, not **kwargs)."""
    parameters = inspect.signature(cls.__init__).parameters
    return [name for name, p in parameters.items() if name != "self" and p.kind != p.VAR_KEYWORD]


class LayerNormRNNBase(keras.layers.RNN):
    """`keras.layers.RNN(cell_class(...))` with the fast path of `fast_path.py`.

    Subclasses set `cell_class` and define `__init__` with the arguments of
    Keras's own layer, in its order (a positional call means the same), then the
    cell's normalization arguments; explicit, for typing and documentation. They
    pass them to `_init`. The cell's arguments are readable on the layer
    (`layer.units`, ...).
    """

    cell_class = None

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        for name in _argument_names(cls.cell_class):
            if not hasattr(cls, name):
                setattr(cls, name, property(lambda self, name=name: getattr(self.cell, name)))

    def _init(self, arguments, kwargs):
        """`arguments`: the subclass constructor's `locals()` (read by name:
        typeguard 4 adds locals of its own)."""
        arguments = {name: arguments[name] for name in _argument_names(type(self))}
        layer_arguments = {k: arguments.pop(k) for k in LAYER_ARGUMENTS if k in arguments}
        use_cudnn = _check_use_cudnn(layer_arguments.pop("use_cudnn", "auto"))
        _check_implementation(kwargs.pop("implementation", 2))
        cell_kwargs = {"dtype": kwargs.get("dtype"), "trainable": kwargs.get("trainable", True)}
        seed = layer_arguments.pop("seed", None)
        if seed is not None:  # (Keras 2's cells take no seed)
            cell_kwargs["seed"] = seed
        cell = self.cell_class(**arguments, **cell_kwargs)
        super().__init__(cell, **layer_arguments, **kwargs)
        self.use_cudnn = use_cudnn
        self.use_fast_path = True  # set False to force the generic loop (tests, benchmarks)

    def __call__(self, inputs, *args, **kwargs):
        # Here, not in `call`: Keras 2 and 3 give `call` different signatures.
        shape = getattr(inputs, "shape", None)
        if shape is not None and len(shape) == 3 and shape[1] == 0:
            raise ValueError(
                f"{type(self).__name__} received an empty time axis: inputs of shape "
                f"{tuple(shape)}. A recurrent layer needs at least one time step."
            )
        return super().__call__(inputs, *args, **kwargs)

    if IS_KERAS_3:

        def inner_loop(self, sequences, initial_state, mask, training=False):
            if isinstance(mask, (list, tuple)):
                mask = mask[0]  # as Keras's LSTM.inner_loop: the sequence's mask
            # Zoneout's masks for every step, drawn here, before any loop (zoneout.py).
            zoneout_masks = None
            if training and self.cell.zoneout_rates():
                zoneout_masks = self.cell.draw_zoneout_masks(sequences)
            if self.use_fast_path and not self.unroll:
                result = fast_path.run(self, sequences, initial_state, mask, training, zoneout_masks)
                if result is not None:
                    return result
            if zoneout_masks is None:
                return super().inner_loop(sequences, initial_state, mask, training=training)
            # The generic loop hands each step its masks at the end of its inputs.
            self.cell.zoneout_masks_in_inputs = True
            try:
                sequences = ops.concatenate([sequences, ops.cast(zoneout_masks, sequences.dtype)], axis=-1)
                return super().inner_loop(sequences, initial_state, mask, training=training)
            finally:
                self.cell.zoneout_masks_in_inputs = False

    else:  # Keras 2: `RNN.call` has no `inner_loop` hook; the fast path serves the whole call.

        def call(self, inputs, mask=None, training=None, initial_state=None, constants=None):
            import tensorflow as tf

            fast = (
                self.use_fast_path
                and not self.unroll
                and constants is None
                and not isinstance(inputs, tf.RaggedTensor)
                and not tf.is_tensor(training)  # a symbolic learning phase: Keras's loop decides
            )
            if not fast:
                return super().call(
                    inputs, mask=mask, training=training, initial_state=initial_state, constants=constants
                )
            # As Keras 2's RNN.call, with `fast_path.run` in place of `backend.rnn`.
            inputs, initial_state, _ = self._process_inputs(inputs, initial_state, None)
            self._maybe_reset_cell_dropout_mask(self.cell)
            if mask is not None:
                mask = tf.nest.flatten(mask)[0]
            last_output, outputs, states = fast_path.run(self, inputs, initial_state, mask, bool(training))
            if self.stateful:
                self.add_update(
                    [tf.compat.v1.assign(old, tf.cast(new, old.dtype)) for old, new in zip(self.states, states)]
                )
            output = outputs if self.return_sequences else last_output
            return [output, *states] if self.return_state else output

    def build_from_config(self, config):
        # Keras 2's RNN.build takes a list for a list of shapes; a shape that
        # JSON turned into a list must go back to a tuple.
        shape = config.get("input_shape")
        if isinstance(shape, list) and not any(isinstance(d, (list, tuple)) for d in shape):
            config = {**config, "input_shape": tuple(shape)}
        super().build_from_config(config)

    def get_config(self):
        config = super().get_config()
        cell_config = config.pop("cell")
        if isinstance(cell_config, dict) and "config" in cell_config:
            cell_config = cell_config["config"]  # Keras 2.13+ / 3 nest it
        for key, value in cell_config.items():
            if key not in NOT_FROM_CELL_CONFIG:
                config[key] = value
        # As Keras's LSTM/GRU/SimpleRNN (the base Layer leaves it out).
        config["activity_regularizer"] = keras.regularizers.serialize(self.activity_regularizer)
        return config

    @classmethod
    def from_config(cls, config):
        return cls(**config)


def _check_use_cudnn(use_cudnn):
    """Keras's `use_cudnn`: "auto" and False mean nothing here; True is refused."""
    if use_cudnn is True:
        raise ValueError(
            "`use_cudnn=True` cannot be honoured: cuDNN has no layer-normalized RNN. "
            "Pass `use_cudnn='auto'` (the default) or False; the layer runs its own fast loop."
        )
    if use_cudnn not in ("auto", False):
        raise ValueError(f"`use_cudnn` must be 'auto', True or False, got {use_cudnn!r}.")
    return use_cudnn


def _check_implementation(implementation):
    """Keras's `implementation` (1 or 2) only chooses how Keras splits its matmuls;
    our cells have one fused computation, so both are accepted and mean the same."""
    if isinstance(implementation, bool) or implementation not in (1, 2):
        raise ValueError(f"`implementation` must be 1 or 2, got {implementation!r}.")
