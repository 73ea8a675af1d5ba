"""Migration to Keras 3: open what Keras 2 (and Addons) saved, convert what Keras 3 cannot.

Keras 3 cannot open recurrent models saved by Keras 2 (keras-team/keras#20750:
`time_major`, Keras 2 module paths, per-layer `batch_input_shape`, ...), and
reads the activation name `hard_sigmoid` as another function. `load_any` and
the `lnrnn-migrate` command open a Keras 2 `.h5`, `.keras` or TF SavedModel
holding Keras's recurrent layers (LSTM, GRU, SimpleRNN, RNN over cells,
Bidirectional, ConvLSTM, ...) or Addons' or our layer-normalized cells, with
Keras 2's outputs, and write a Keras 3 `.keras` file (docs/keras2_models.md):

    lnrnn-migrate OLD NEW.keras [--check INPUTS.npy --expected OUTPUTS.npz]

Importing `tensorflow_lnrnn` under Keras 3 also registers Addons' names
(`Addons>LayerNormLSTMCell`, `Addons>LayerNormSimpleRNNCell`) so that
`keras.models.load_model` reads Keras 3 files naming Addons' cells into ours,
with Keras 2's activation definitions kept (see `tensorflow_lnrnn.activations`).
Under Keras 2, Addons may be imported in the same process and its names stay
its own: nothing is registered there.
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
    "check_outputs",
    "keras2_config_to_keras3",
    "load_any",
    "load_arrays",
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


def load_arrays(path):
    """The arrays in a `.npy` file (one) or a `.npz` file (in their order)."""
    import numpy as np

    try:
        if path.endswith(".npz"):
            with np.load(path, allow_pickle=False) as archive:
                return [archive[name] for name in archive.files]
        return [np.load(path, allow_pickle=False)]
    except Exception as error:
        raise MigrationError(f"could not read {path}: {error}") from error


def check_outputs(model, inputs, expected, atol=1e-5, log=print):
    """Raises MigrationError unless `model` predicts `expected` (a list, in the
    model's output order) on `inputs` (an array, or a list for several inputs)
    to `atol`: for outputs recorded under Keras 2, compared after migration."""
    import numpy as np

    first = inputs[0] if isinstance(inputs, (list, tuple)) else inputs
    outputs = model.predict(inputs if not isinstance(inputs, tuple) else list(inputs), batch_size=len(first), verbose=0)
    outputs = outputs if isinstance(outputs, (list, tuple)) else [outputs]
    if len(outputs) != len(expected):
        raise MigrationError(f"the model has {len(outputs)} output(s), the expected outputs {len(expected)}")
    for index, (got, want) in enumerate(zip(outputs, expected)):
        got = np.asarray(got)
        if got.shape != want.shape:
            raise MigrationError(f"output {index}: shape {got.shape}, expected {want.shape}")
        difference = float(np.max(np.abs(got - want))) if got.size else 0.0
        if not difference <= atol:
            raise MigrationError(
                f"output {index} differs from the expected outputs by up to {difference:.3g} (tolerance {atol:g}): "
                "the migrated model does not compute what the original did"
            )
    log(f"checked: the {len(outputs)} output(s) match the expected ones to {atol:g}")


def migrate(old_path, new_path, overwrite=False, log=print, check=None, atol=1e-5):
    """Rewrites the model at `old_path` into the `.keras` file `new_path`.

    Refuses to replace an existing `new_path` unless `overwrite`, and never
    writes over the input. Nothing stored in the input runs (see
    docs/migration_from_addons.md for what loading each format executes).
    `check=(inputs, expected_outputs)`: outputs recorded under Keras 2 that the
    migrated model must reproduce to `atol`, or nothing is written.
    """
    _check_paths(old_path, new_path, overwrite)
    model = load_any(old_path, log=log)
    if check is not None:
        check_outputs(model, *check, atol=atol, log=log)
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
        description="Rewrite a model saved under Keras 2 (.h5, .keras, or a TF SavedModel directory), "
        "with Keras's recurrent layers, TensorFlow Addons' layer-normalized cells or ours, into a "
        "Keras 3 .keras file. Nothing stored in the input is executed.",
    )
    parser.add_argument("old", help="the saved model: a .h5 or .keras file, or a SavedModel directory")
    parser.add_argument("new", help="the .keras file to write (not replaced unless --overwrite)")
    parser.add_argument("--overwrite", action="store_true", help="replace NEW if it exists")
    parser.add_argument(
        "--check", metavar="INPUTS", help="inputs (.npy, or .npz for several) on which to compare with --expected"
    )
    parser.add_argument(
        "--expected",
        metavar="OUTPUTS",
        help="the original model's outputs on INPUTS (.npy, or .npz in output order), recorded under Keras 2: "
        "NEW is written only if the migrated model reproduces them",
    )
    parser.add_argument("--atol", type=float, default=1e-5, help="tolerance of --check (default 1e-5)")
    args = parser.parse_args(argv)
    if (args.check is None) != (args.expected is None):
        parser.error("--check and --expected go together")
    try:
        check = None
        if args.check is not None:
            inputs = load_arrays(args.check)
            check = (inputs[0] if len(inputs) == 1 else inputs, load_arrays(args.expected))
        migrate(
            args.old,
            args.new,
            overwrite=args.overwrite,
            log=lambda m: print(f"[migrate] {m}", flush=True),
            check=check,
            atol=args.atol,
        )
    except Exception as error:  # every failure is one line, never a traceback
        message = " ".join(str(error).split()) or type(error).__name__
        print(f"error: {message}", file=sys.stderr)
        return 2
    return 0
