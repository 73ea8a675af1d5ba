"""Activations whose definition changed between Keras 2 and Keras 3.

A model saved under Keras 2 (Addons' cells, or ours on TF <= 2.15) names its
activations by string. Keras 3 reads `"hard_sigmoid"` as its own, different
function (`relu6(x + 3) / 6`, where Keras 2 had `clip(0.2 x + 0.5, 0, 1)`), so a
migrated model would drift silently. The Keras 2 definitions live here as
registered, portable functions: configs that use them mean the same on both.

`tests/activations_test.py` checks every Keras 2 activation against fixtures
made on Keras 2.15, so a definition that changes again is caught.
"""

from tensorflow_lnrnn.utils.compat import IS_KERAS_3, get_registered_object, ops, register_keras_serializable


@register_keras_serializable(package="LNRNN")
def hard_sigmoid_keras2(x):
    """Keras 2's `hard_sigmoid`: `clip(0.2 * x + 0.5, 0, 1)`."""
    return ops.clip(0.2 * x + 0.5, 0.0, 1.0)


# Keras 2 name -> its Keras 2 definition, for the names Keras 3 redefined.
KERAS2_DEFINITIONS = {"hard_sigmoid": hard_sigmoid_keras2}


def _function_name(identifier):
    """The name in a function identifier: "tanh", or a function's serialized form."""
    if isinstance(identifier, str):
        return identifier
    if isinstance(identifier, dict) and identifier.get("class_name") == "function":
        return identifier.get("config")  # Keras >= 2.13 serialization of a function
    return None


def from_keras2(identifier):
    """An activation identifier as Keras 2 meant it: Keras 2 names that Keras 3
    redefined become their portable Keras 2 definition; all else is unchanged."""
    return KERAS2_DEFINITIONS.get(_function_name(identifier), identifier)


def portable(identifier):
    """Used by the cells on the activations they are given.

    Under Keras 2 a name that Keras 3 redefined is stored (and serialized) as
    its portable Keras 2 definition, so the model means the same after an
    upgrade to Keras 3. A registered function is serialized as the bare string
    "LNRNN>hard_sigmoid_keras2" or as a function dict, which not every Keras
    version's `activations.get` looks up: resolve registered names here.
    """
    if not IS_KERAS_3:
        identifier = from_keras2(identifier)
    name = _function_name(identifier)
    if name and ">" in name:
        registered = get_registered_object(name)
        if registered is not None:
            return registered
    return identifier
