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

    lnrnn-migrate OLD NEW.keras          # or: python -m tensorflow_lnrnn.migrate
"""

import argparse
import json
import os
import sys
import tempfile

from tensorflow_lnrnn import activations
from tensorflow_lnrnn.migrate.keras2 import (
    MigrationError,
    keras2_config_to_keras3,
    load_keras2_h5,
    load_keras2_keras_file,
    load_keras2_saved_model,
)
from tensorflow_lnrnn.rnn import LayerNormLSTMCell, LayerNormSimpleRNNCell
from tensorflow_lnrnn.utils.compat import IS_KERAS_3, keras

__all__ = [
    "MigrationError",
    "keras2_config_to_keras3",
    "load_any",
    "main",
    "migrate",
    "register_addons_names",
]

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


def _check_paths(old_path, new_path, overwrite):
    """Refuses, before anything is read, an output that cannot or must not be written."""
    if not new_path.endswith(".keras"):
        raise MigrationError(f"the new file must end in .keras, got {new_path}")
    if os.path.isdir(new_path):
        raise MigrationError(f"{new_path} is a directory")
    if os.path.exists(old_path) and os.path.realpath(old_path) == os.path.realpath(new_path):
        raise MigrationError(f"{new_path} is the input itself: write the migrated model elsewhere")
    if os.path.lexists(new_path) and not overwrite:
        raise MigrationError(f"{new_path} exists: pass --overwrite (overwrite=True) to replace it")
    folder = os.path.dirname(os.path.abspath(new_path))
    if not os.path.isdir(folder):
        raise MigrationError(f"the folder {folder} does not exist")
    if not os.access(folder, os.W_OK):
        raise MigrationError(f"the folder {folder} is not writable")


def _save_atomically(model, new_path):
    """Saves to a temporary file beside `new_path`, then renames it over
    `new_path`: a failure leaves neither a half-written file nor the temporary
    one, and a symlink at `new_path` is replaced, never written through."""
    folder = os.path.dirname(os.path.abspath(new_path))
    descriptor, temporary = tempfile.mkstemp(prefix=".lnrnn-migrate-", suffix=".keras", dir=folder)
    os.close(descriptor)
    try:
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(temporary, 0o666 & ~umask)  # mkstemp's 0600 is not what the user asked for
        model.save(temporary)
        os.replace(temporary, new_path)
    except BaseException:
        if os.path.exists(temporary):
            os.remove(temporary)
        raise


def migrate(old_path, new_path, overwrite=False, log=print):
    """Rewrites the model at `old_path` into the `.keras` file `new_path`.

    Refuses to replace an existing `new_path` unless `overwrite`, and never
    writes over the input. Nothing stored in the input runs (see
    docs/migration_from_addons.md for what loading each format executes).
    """
    _check_paths(old_path, new_path, overwrite)
    model = load_any(old_path, log=log)
    try:
        _save_atomically(model, new_path)
    except OSError as error:
        raise MigrationError(f"could not write {new_path}: {error}") from error
    log(f"wrote {new_path}")
    return model


def main(argv=None):
    """The `lnrnn-migrate` command (also `python -m tensorflow_lnrnn.migrate`).

    Returns 0, or 2 after one `error: ...` line on stderr."""
    parser = argparse.ArgumentParser(
        prog="lnrnn-migrate",
        description="Rewrite a model saved with TensorFlow Addons' (or our) layer-normalized "
        "cells under Keras 2 (.h5, .keras, or a TF SavedModel directory) into a Keras 3 .keras file. "
        "Nothing stored in the input is executed.",
    )
    parser.add_argument("old", help="the saved model: a .h5 or .keras file, or a SavedModel directory")
    parser.add_argument("new", help="the .keras file to write (not replaced unless --overwrite)")
    parser.add_argument("--overwrite", action="store_true", help="replace NEW if it exists")
    args = parser.parse_args(argv)
    try:
        migrate(args.old, args.new, overwrite=args.overwrite, log=lambda m: print(f"[migrate] {m}", flush=True))
    except Exception as error:  # every failure is one line, never a traceback
        message = " ".join(str(error).split()) or type(error).__name__
        print(f"error: {message}", file=sys.stderr)
        return 2
    return 0
