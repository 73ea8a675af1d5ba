"""Readers of the files Keras 2 wrote (`.h5`, `.keras`, TF SavedModel) into
Keras 3 models, without running anything stored in them.

Nothing here imports a file's code: configs are JSON (a SavedModel's read off
`keras_metadata.pb` by hand), classes come from Keras's and our registries,
and a SavedModel's weights are read with TensorFlow's checkpoint reader, never
with `tf.saved_model.load` (which runs the file's resource initializers and
restore functions, i.e. whatever graph the file's author put there).
"""

import json
import os

from tensorflow_lnrnn.utils.compat import keras


class MigrationError(Exception):
    """A file that cannot be migrated, with the reason."""


def _read_keras_metadata(path):
    """The root model's config JSON from a Keras 2 SavedModel's keras_metadata.pb.

    The file is a `SavedMetadata` protobuf (`repeated SavedObject nodes = 1`,
    each with `node_path = 3`, `identifier = 4`, `metadata = 5`). Keras 3 no
    longer ships its schema, so read the few fields we need off the wire format.
    """

    def fields(buffer):
        position = 0
        while position < len(buffer):
            key, position = _varint(buffer, position)
            number, wire_type = key >> 3, key & 7
            if wire_type == 0:
                value, position = _varint(buffer, position)
            elif wire_type == 2:
                length, position = _varint(buffer, position)
                value, position = buffer[position : position + length], position + length
            elif wire_type in (1, 5):
                size = 8 if wire_type == 1 else 4
                value, position = buffer[position : position + size], position + size
            else:
                raise MigrationError(f"{path} is not a Keras metadata file")
            yield number, value

    with open(path, "rb") as f:
        data = f.read()
    for number, node in fields(data):
        if number != 1:
            continue
        node_fields = dict((n, v) for n, v in fields(node) if n in (3, 5))
        if node_fields.get(3) == b"root" and 5 in node_fields:
            metadata = json.loads(node_fields[5].decode("utf-8"))
            if "config" in metadata:
                root = {"class_name": metadata["class_name"], "config": metadata["config"]}
                if metadata.get("training_config"):
                    root["training_config"] = metadata["training_config"]
                return root
    raise MigrationError(f"{path} holds no Keras model config")


def _varint(buffer, position):
    result = shift = 0
    while True:
        if position >= len(buffer):
            raise MigrationError("truncated protobuf")
        byte = buffer[position]
        position += 1
        result |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return result, position
        shift += 7


# Layer arguments Keras 2 saved that Keras 3 no longer accepts, with the only
# value a model Keras 3 can run ever had there.
KERAS2_ONLY_ARGUMENTS = {"time_major": False}
# Shape hints Keras 2 stored on every layer built from `input_shape=` /
# `batch_input_shape=` / `input_length=`: the model's InputLayer holds the same
# shape (batch size included, for stateful models), so the layers drop them.
KERAS2_SHAPE_ARGUMENTS = ("batch_input_shape", "input_length")
KERAS_MODULES = ("layers", "initializers", "regularizers", "constraints")
# Keras 3 redefined these activation names: they become their Keras 2
# definitions (tensorflow_lnrnn.activations), as a serialized registered function.
CHANGED_ACTIVATIONS = {
    name: {"module": None, "class_name": "function", "config": registered, "registered_name": "function"}
    for name, registered in (("hard_sigmoid", "LNRNN>hard_sigmoid_keras2"),)
}


def _activation_name(value):
    """The function name an activation argument holds (a string or Keras's
    serialized function), else None."""
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and value.get("class_name") == "function" and isinstance(value.get("config"), str):
        return value["config"]
    return None


def _rewrite_layer_arguments(class_name, arguments):
    """One layer's (or cell's) own arguments, for Keras 3."""
    name = arguments.get("name", class_name)
    for argument, default in KERAS2_ONLY_ARGUMENTS.items():
        if argument in arguments:
            if arguments[argument] != default:
                raise MigrationError(
                    f"layer {name!r} ({class_name}): `{argument}={arguments[argument]!r}` has no Keras 3 "
                    "equivalent; it is not converted approximately"
                )
            del arguments[argument]
    if class_name != "InputLayer":
        for argument in KERAS2_SHAPE_ARGUMENTS:
            arguments.pop(argument, None)
    for argument, value in list(arguments.items()):
        if argument == "activation" or argument.endswith("_activation"):
            changed = CHANGED_ACTIVATIONS.get(_activation_name(value))
            if changed is not None:
                arguments[argument] = dict(changed)
    return arguments


def keras2_config_to_keras3(config):
    """Rewrites a Keras 2 model config (any nesting) for Keras 3.

    - drops the arguments Keras 3 removed (refusing a value it cannot honour,
      naming the layer and the argument) and the per-layer shape hints that the
      model's InputLayer also holds;
    - rewrites every activation argument whose name Keras 3 redefined
      (`hard_sigmoid`, in any layer or cell, explicit defaults included) to its
      Keras 2 definition, so that the migrated model computes what it did;
    - points Keras 2's internal module paths at nothing, so that Keras 3
      resolves Keras's classes by name.
    """
    if isinstance(config, list):
        return [keras2_config_to_keras3(item) for item in config]
    if not isinstance(config, dict):
        return config
    if config.get("class_name") == "__tuple__" and set(config) == {"class_name", "items"}:
        return keras2_config_to_keras3(config["items"])  # Keras 2 SavedModel JSON's tuples
    if config.get("class_name") == "Lambda" and isinstance(config.get("config"), dict):
        # Keras 2 stored a Lambda's function as marshalled Python bytecode (or a
        # module path), which runs when the model is rebuilt: never load it.
        name = config["config"].get("name", config.get("name"))
        raise MigrationError(
            f"layer {name!r} is a Lambda, whose Python code is stored in the file and would run "
            "on loading: it is not migrated (the safe mode of Keras's loaders). Rebuild the model "
            "in code and load the weights (`model.load_weights`) if you trust the file."
        )
    config = {key: keras2_config_to_keras3(value) for key, value in config.items()}
    if "class_name" in config and isinstance(config.get("config"), dict):
        config["config"] = _rewrite_layer_arguments(config["class_name"], config["config"])
    if "class_name" in config and "config" in config and not config.get("module"):
        # Legacy configs name Keras's own classes without their module.
        for module in KERAS_MODULES:
            if hasattr(getattr(keras, module), config["class_name"]):
                config["module"] = f"keras.{module}"
                break
    return config


def model_from_keras2_config(config):
    """Builds a Keras 3 model from a Keras 2 model config."""
    config = keras2_config_to_keras3(config)
    builders = {"Functional": keras.Model, "Model": keras.Model, "Sequential": keras.Sequential}
    if config.get("class_name") not in builders:
        raise MigrationError(f"not a Keras model config: class {config.get('class_name')!r}")
    return builders[config["class_name"]].from_config(config["config"])


def _set_weights_in_order(model, values, source):
    if [tuple(v.shape) for v in values] != [tuple(w.shape) for w in model.weights]:
        raise MigrationError(
            f"the weights in {source} do not fit the model its config describes: "
            f"{[tuple(v.shape) for v in values]} vs {[tuple(w.shape) for w in model.weights]}"
        )
    model.set_weights(values)


def _saved_model_variables(path):
    """The values of the `variables` a Keras 2 SavedModel's root tracks (its
    `model.variables`, in order), read from the checkpoint in `variables/`
    through its object graph: data only, nothing of the file runs."""
    import tensorflow as tf
    from tensorflow.core.protobuf import trackable_object_graph_pb2

    reader = tf.train.load_checkpoint(os.path.join(path, "variables", "variables"))
    graph = trackable_object_graph_pb2.TrackableObjectGraph()
    graph.ParseFromString(reader.get_tensor("_CHECKPOINTABLE_OBJECT_GRAPH"))
    root_children = {child.local_name: child.node_id for child in graph.nodes[0].children}
    if "variables" not in root_children:
        raise MigrationError(f"{path}: the checkpoint's root tracks no `variables` list (not a Keras 2 model)")
    values = []
    listed = graph.nodes[root_children["variables"]].children
    for child in sorted(listed, key=lambda c: int(c.local_name)):
        keys = {a.name: a.checkpoint_key for a in graph.nodes[child.node_id].attributes}
        if "VARIABLE_VALUE" not in keys:
            raise MigrationError(f"{path}: variable {child.local_name} has no stored value")
        values.append(reader.get_tensor(keys["VARIABLE_VALUE"]))
    return values


OPTIMIZER_NOT_CARRIED = (
    "the model was compiled: its optimizer state and compile settings are not carried over "
    "(Keras 3's optimizers store other variables); compile the migrated model again, and "
    "training resumes from its weights"
)


def load_keras2_saved_model(path, log=print):
    """Rebuilds the Keras model saved as a Keras 2 TF SavedModel at `path`."""
    metadata = os.path.join(path, "keras_metadata.pb")
    if not os.path.exists(metadata):
        raise MigrationError(f"{path} is a SavedModel without keras_metadata.pb: not saved by Keras 2")
    log(f"reading the model config from {metadata}")
    root = _read_keras_metadata(metadata)
    if root.pop("training_config", None):
        log(OPTIMIZER_NOT_CARRIED)
    model = model_from_keras2_config(root)
    log(f"reading {len(model.weights)} weights from the checkpoint in {os.path.join(path, 'variables')}")
    # Keras 2 saved `model.variables` in `model.weights` order, which Keras 3 keeps.
    _set_weights_in_order(model, _saved_model_variables(path), path)
    return model


def load_keras2_h5(path, log=print):
    """Loads a whole-model `.h5` file saved by Keras 2."""
    import h5py

    with h5py.File(path, "r") as f:
        config = json.loads(f.attrs["model_config"])
        compiled = "training_config" in f.attrs or "optimizer_weights" in f
    if compiled:
        log(OPTIMIZER_NOT_CARRIED)
    log(f"rebuilding the model from the config in {path}")
    model = model_from_keras2_config(config)
    log(f"loading {len(model.weights)} weights from {path}")
    model.load_weights(path)  # Keras's legacy loader: by layer name, then in order
    return model


def load_keras2_keras_file(path, log=print):
    """Loads a `.keras` file saved by Keras 2 (2.13 to 2.15)."""
    import tempfile
    import zipfile

    with zipfile.ZipFile(path) as archive, tempfile.TemporaryDirectory() as tmp:
        config = json.loads(archive.read("config.json"))
        if config.pop("compile_config", None):
            log(OPTIMIZER_NOT_CARRIED)
        log(f"rebuilding the model from the config in {path}")
        model = model_from_keras2_config(config)
        archive.extract("model.weights.h5", tmp)
        log(f"loading {len(model.weights)} weights from {path}")
        model.load_weights(os.path.join(tmp, "model.weights.h5"))
    return model
