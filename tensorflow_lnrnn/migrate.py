"""Migration from TensorFlow Addons: load what Addons saved, convert what Keras 3 cannot.

Importing `tensorflow_lnrnn` under Keras 3 registers Addons' names
(`Addons>LayerNormLSTMCell`, `Addons>LayerNormSimpleRNNCell`) so that
`keras.models.load_model` reads `.h5` and `.keras` files saved with Addons'
cells into ours, with Keras 2's activation definitions kept (see
`tensorflow_lnrnn.activations`). Under Keras 2, Addons may be imported in the
same process and its names stay its own: nothing is registered there.

A Keras 2 TF SavedModel (`model.save("dir")`) cannot be loaded as a model by
Keras 3 (only served, e.g. with `keras.layers.TFSMLayer`). This module's
command rewrites one, or any file `load_model` reads, into a `.keras` file:

    python -m tensorflow_lnrnn.migrate OLD NEW.keras
"""

import argparse
import json
import os
import sys

from tensorflow_lnrnn import activations
from tensorflow_lnrnn.rnn import LayerNormLSTMCell, LayerNormSimpleRNNCell
from tensorflow_lnrnn.utils.compat import IS_KERAS_3, keras

ADDONS_CLASSES = {
    "Addons>LayerNormLSTMCell": LayerNormLSTMCell,
    "Addons>LayerNormSimpleRNNCell": LayerNormSimpleRNNCell,
}
ACTIVATION_KEYS = ("activation", "recurrent_activation")


class AddonsConfigLoader:
    """Stands for an Addons cell class in Keras's registry: builds our cell
    from the config Addons saved, reading activations as Keras 2 meant them."""

    def __init__(self, cell_class):
        self.cell_class = cell_class

    def from_config(self, config):
        config = dict(config)
        for key in ACTIVATION_KEYS:
            if key in config:
                config[key] = activations.from_keras2(config[key])
        return self.cell_class.from_config(config)

    def __repr__(self):
        return f"AddonsConfigLoader({self.cell_class.__name__})"


def register_addons_names():
    """Makes Addons' registered names resolve to our cells (Keras 3 only)."""
    if not IS_KERAS_3:
        return
    objects = keras.utils.get_custom_objects()
    for name, cell_class in ADDONS_CLASSES.items():
        objects.setdefault(name, AddonsConfigLoader(cell_class))


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
                return {"class_name": metadata["class_name"], "config": metadata["config"]}
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


# Layer arguments Keras 2 saved that Keras 3 no longer accepts (and that only
# ever held their default value in a model Keras 3 can run).
KERAS2_ONLY_ARGUMENTS = {"time_major": False}
KERAS_MODULES = ("layers", "initializers", "regularizers", "constraints")


def keras2_config_to_keras3(config):
    """Rewrites a Keras 2 model config (any nesting) for Keras 3: drops the
    arguments Keras 3 removed and points Keras 2's internal module paths at
    nothing, so that Keras 3 resolves those classes by name."""
    if isinstance(config, list):
        return [keras2_config_to_keras3(item) for item in config]
    if not isinstance(config, dict):
        return config
    if config.get("class_name") == "__tuple__" and set(config) == {"class_name", "items"}:
        return keras2_config_to_keras3(config["items"])  # Keras 2 SavedModel JSON's tuples
    config = {key: keras2_config_to_keras3(value) for key, value in config.items()}
    if "class_name" in config and "config" in config and not config.get("module"):
        # Legacy configs name Keras's own classes without their module.
        for module in KERAS_MODULES:
            if hasattr(getattr(keras, module), config["class_name"]):
                config["module"] = f"keras.{module}"
                break
    for argument, default in KERAS2_ONLY_ARGUMENTS.items():
        if argument in config and "class_name" not in config:  # a layer's own arguments
            if config[argument] != default:
                raise MigrationError(f"`{argument}={config[argument]!r}` has no Keras 3 equivalent")
            del config[argument]
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


def load_keras2_saved_model(path, log=print):
    """Rebuilds the Keras model saved as a Keras 2 TF SavedModel at `path`."""
    import tensorflow as tf

    metadata = os.path.join(path, "keras_metadata.pb")
    if not os.path.exists(metadata):
        raise MigrationError(f"{path} is a SavedModel without keras_metadata.pb: not saved by Keras 2")
    log(f"reading the model config from {metadata}")
    model = model_from_keras2_config(_read_keras_metadata(metadata))
    log(f"restoring {len(model.weights)} weights from {os.path.join(path, 'variables')}")
    restored = tf.saved_model.load(path)
    # Keras 2 saved `model.variables` in `model.weights` order, which Keras 3 keeps.
    _set_weights_in_order(model, [v.numpy() for v in restored.variables], path)
    return model


def load_keras2_h5(path, log=print):
    """Loads a whole-model `.h5` file saved by Keras 2."""
    import h5py

    with h5py.File(path, "r") as f:
        config = json.loads(f.attrs["model_config"])
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
        log(f"rebuilding the model from the config in {path}")
        model = model_from_keras2_config(config)
        archive.extract("model.weights.h5", tmp)
        log(f"loading {len(model.weights)} weights from {path}")
        model.load_weights(os.path.join(tmp, "model.weights.h5"))
    return model


def _keras_version(path):
    """The Keras version that saved a `.keras` or `.h5` file, or None."""
    import zipfile

    if zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as archive:
            if "metadata.json" in archive.namelist():
                return json.loads(archive.read("metadata.json")).get("keras_version")
        return None
    import h5py

    try:
        with h5py.File(path, "r") as f:
            version = f.attrs.get("keras_version")
    except OSError:
        return None
    return version.decode() if isinstance(version, bytes) else version


def load_any(path, log=print):
    """Loads a model saved by Keras 2 or 3: `.keras`, `.h5` or a SavedModel directory."""
    if not os.path.exists(path):
        raise MigrationError(f"{path} does not exist")
    try:
        if os.path.isdir(path):
            if not os.path.exists(os.path.join(path, "saved_model.pb")):
                raise MigrationError(f"{path} is a directory but not a SavedModel (no saved_model.pb)")
            return load_keras2_saved_model(path, log=log)
        version = _keras_version(path)
        if version is None:
            raise MigrationError(f"{path} is neither a .keras archive nor a Keras .h5 file")
        if IS_KERAS_3 and version.startswith("2."):
            log(f"{path} was saved by Keras {version}")
            if path.endswith(".keras"):
                return load_keras2_keras_file(path, log=log)
            return load_keras2_h5(path, log=log)
        log(f"loading {path}")
        return keras.models.load_model(path, compile=False)
    except MigrationError:
        raise
    except Exception as error:  # Keras and h5py raise many types for a bad file
        raise MigrationError(f"{path} could not be loaded as a Keras model: {error}") from error


def migrate(old_path, new_path, log=print):
    """Rewrites the model at `old_path` into the `.keras` file `new_path`."""
    if not new_path.endswith(".keras"):
        raise MigrationError(f"the new file must end in .keras, got {new_path}")
    model = load_any(old_path, log=log)
    model.save(new_path)
    log(f"wrote {new_path}")
    return model


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog="python -m tensorflow_lnrnn.migrate",
        description="Rewrite a model saved with TensorFlow Addons' (or our) layer-normalized "
        "cells under Keras 2 (.h5, .keras, or a TF SavedModel directory) into a Keras 3 .keras file.",
    )
    parser.add_argument("old", help="the saved model: a .h5 or .keras file, or a SavedModel directory")
    parser.add_argument("new", help="the .keras file to write")
    args = parser.parse_args(argv)
    try:
        migrate(args.old, args.new, log=lambda message: print(f"[migrate] {message}", flush=True))
    except MigrationError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
