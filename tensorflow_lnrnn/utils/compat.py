"""The one place where Keras 2 and Keras 3 differ for this package.

Keras 3 (the ``keras`` package, TensorFlow >= 2.16) is the primary target.
Keras 2 is ``tf.keras`` on TensorFlow <= 2.15 (where TensorFlow Addons still
imports) or ``tf_keras`` on newer TensorFlow with ``TF_USE_LEGACY_KERAS=1``.
Cells import ``keras``, ``ops`` and the helpers below from here and never branch
on the Keras version themselves.
"""

import importlib.util
import os


def _legacy_keras_requested():
    return os.environ.get("TF_USE_LEGACY_KERAS", "").lower() in ("1", "true", "yes")


INSTALL_HINT = (
    "tensorflow_lnrnn needs Keras 3 (`pip install tensorflow-lnrnn[tensorflow]` for "
    "TensorFlow >= 2.16, or `pip install keras jax` / `keras torch` for another backend) "
    "or TensorFlow 2.13-2.15 with its Keras 2 (`pip install tensorflow==2.15.*`, beside "
    "TensorFlow Addons)."
)


class MissingKerasError(ImportError):
    """No Keras this package can use is installed; the message says what to install."""


def _installed(name):
    try:
        return importlib.util.find_spec(name) is not None
    except ImportError:
        return False


def _select_keras():
    """Returns (the Keras module to use, whether it is Keras 3)."""
    from packaging.version import Version

    if not _legacy_keras_requested():
        try:
            import keras as keras_module
        except ImportError as error:
            keras_module = None
            if _installed("keras"):  # installed, but its backend is not
                raise MissingKerasError(
                    f"Keras is installed but could not be imported ({error}): its backend "
                    f"(KERAS_BACKEND={os.environ.get('KERAS_BACKEND', 'tensorflow')}, the default "
                    f"being tensorflow) is missing. Set KERAS_BACKEND=jax or torch, or install "
                    f"TensorFlow. {INSTALL_HINT}"
                ) from None
        if keras_module is not None and Version(keras_module.__version__).major >= 3:
            return keras_module, True
    try:
        import tensorflow as tf  # Keras 2: tf.keras is the right one (tf_keras if legacy).
    except ImportError:
        raise MissingKerasError(f"Neither Keras 3 nor TensorFlow is installed. {INSTALL_HINT}") from None
    tf_version = Version(tf.__version__)
    if tf_version < Version("2.13"):
        raise MissingKerasError(f"TensorFlow {tf.__version__} is too old. {INSTALL_HINT}")
    if tf_version >= Version("2.16") and not _legacy_keras_requested():
        raise MissingKerasError(
            f"TensorFlow {tf.__version__} is installed with Keras {getattr(keras_module, '__version__', '?')}, "
            f"not Keras 3. {INSTALL_HINT}"
        )
    return tf.keras, False


keras, IS_KERAS_3 = _select_keras()

if IS_KERAS_3:
    ops = keras.ops
    _register_keras_serializable = keras.saving.register_keras_serializable
    get_registered_name = keras.saving.get_registered_name
    get_registered_object = keras.saving.get_registered_object
else:  # pragma: no cover - exercised by the Keras 2 CI job
    import tensorflow as tf

    class _TFOps:
        """The handful of ``keras.ops`` the cells use, mapped to TF ops."""

        matmul = staticmethod(tf.matmul)
        clip = staticmethod(tf.clip_by_value)

        @staticmethod
        def split(x, indices_or_sections, axis=0):
            return tf.split(x, indices_or_sections, axis=axis)

        cast = staticmethod(tf.cast)
        shape = staticmethod(tf.shape)
        where = staticmethod(tf.where)

    ops = _TFOps()
    _register_keras_serializable = keras.utils.register_keras_serializable
    get_registered_name = keras.utils.get_registered_name
    get_registered_object = keras.utils.get_registered_object


def register_keras_serializable(package):
    """Registers a class as ``package>ClassName``, like Keras's decorator.

    Keras 2's legacy ``.h5`` loader looks a cell nested in ``RNN`` up by its
    bare class name, so there the bare name is registered too (unless taken).
    """

    def decorator(cls):
        cls = _register_keras_serializable(package=package)(cls)
        if not IS_KERAS_3:
            keras.utils.get_custom_objects().setdefault(cls.__name__, cls)
        return cls

    return decorator


def weight_path(variable):
    """A variable's path ("rnn/cell/kernel") under Keras 3 and Keras 2 alike."""
    if IS_KERAS_3:
        return variable.path
    return variable.name[: -len(":0")] if variable.name.endswith(":0") else variable.name


def build_sublayer(layer, input_shape):
    """Builds a sublayer (a cell's normalization) under its own name.

    Keras 3 names variables after the layer that creates them; Keras 2 only
    inside `__call__`, so we open the name scope as Addons does. Either way
    the weights are `.../kernel_norm/gamma`, never clashing `gamma`s.
    """
    if layer.built:
        return
    if IS_KERAS_3:
        layer.build(input_shape)
    else:  # pragma: no cover - exercised by the Keras 2 CI jobs
        with keras.backend.name_scope(layer.name):
            layer.build(input_shape)
    layer.built = True


def seed_kwargs(seed):
    """``{"seed": seed}`` where the Keras cells take a seed (Keras 3), else ``{}``."""
    return {"seed": seed} if IS_KERAS_3 else {}


def dropout_masks(cell, inputs, h_tm1, training):
    """Returns the (input, recurrent) dropout masks of a cell, or ``None``s.

    Masks are drawn once per sequence and reused at every step (Gal &
    Ghahramani; Semeniuta et al.), as Keras's own cells do.
    """
    if IS_KERAS_3:
        dp_mask = rec_dp_mask = None
        if training and 0.0 < cell.dropout < 1.0:
            dp_mask = cell.get_dropout_mask(inputs)
        if training and 0.0 < cell.recurrent_dropout < 1.0:
            rec_dp_mask = cell.get_recurrent_dropout_mask(h_tm1)
        return dp_mask, rec_dp_mask
    dp_mask = cell.get_dropout_mask_for_cell(inputs, training, count=1)  # pragma: no cover
    rec_dp_mask = cell.get_recurrent_dropout_mask_for_cell(h_tm1, training, count=1)
    return dp_mask, rec_dp_mask  # pragma: no cover
