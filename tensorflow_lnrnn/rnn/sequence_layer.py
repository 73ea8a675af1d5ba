"""The base of the whole-sequence layers (`LayerNormLSTM`, ...): `keras.layers.RNN`
around one of our cells, with the cell's arguments flattened into the layer's,
as `keras.layers.LSTM` does, and a fast path for the time loop."""

import inspect

from tensorflow_lnrnn.rnn import fast_path
from tensorflow_lnrnn.utils.compat import IS_KERAS_3, keras

RNN_ARGUMENTS = ("return_sequences", "return_state", "go_backwards", "stateful", "unroll")
# Keys of the cell's config that do not become the layer's: the layer has its
# own, or (implementation) they mean nothing for our cells.
NOT_FROM_CELL_CONFIG = ("name", "trainable", "dtype", "implementation") + RNN_ARGUMENTS


def _argument_names(cls):
    """The named constructor arguments of a class (not self, not **kwargs)."""
    parameters = inspect.signature(cls.__init__).parameters
    return [name for name, p in parameters.items() if name != "self" and p.kind != p.VAR_KEYWORD]


class LayerNormRNNBase(keras.layers.RNN):
    """`keras.layers.RNN(cell_class(...))` with the fast path of `fast_path.py`.

    Subclasses set `cell_class` and define `__init__` with the cell's arguments
    (explicit, for typing and documentation) and pass them to `_init`.
    Their cell's arguments are readable on the layer (`layer.units`, ...).
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
        rnn_arguments = {k: arguments.pop(k) for k in RNN_ARGUMENTS}
        cell_arguments = arguments
        cell_kwargs = {"dtype": kwargs.get("dtype"), "trainable": kwargs.get("trainable", True)}
        if "seed" in kwargs:
            cell_kwargs["seed"] = kwargs.pop("seed")
        cell = self.cell_class(**cell_arguments, **cell_kwargs)
        super().__init__(cell, **rnn_arguments, **kwargs)
        self.use_fast_path = True  # set False to force the generic loop (tests, benchmarks)

    if IS_KERAS_3:

        def inner_loop(self, sequences, initial_state, mask, training=False):
            if isinstance(mask, (list, tuple)):
                mask = mask[0]  # as Keras's LSTM.inner_loop: the sequence's mask
            if self.use_fast_path and not self.unroll:
                result = fast_path.run(
                    self.cell, sequences, initial_state, mask, training, self.go_backwards, self.return_sequences
                )
                if result is not None:
                    return result
            return super().inner_loop(sequences, initial_state, mask, training=training)

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
        return config

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        config.pop("implementation", None)  # in configs of Keras's own LSTM/GRU
        return cls(**config)
