"""Training on several workers with the existing engines, with real processes
on 127.0.0.1 (`examples/multi_worker.py`, small sizes): TensorFlow's
MultiWorkerMirroredStrategy (Keras 3: a custom loop; Keras 2: `Model.fit`),
a killed run resumed from its checkpoint, and Keras 3's JAX DataParallel."""

import importlib.util
import os

import pytest

from tensorflow_lnrnn.utils.compat import IS_KERAS_3, keras

EXAMPLE = os.path.join(os.path.dirname(__file__), "..", "examples", "multi_worker.py")


@pytest.fixture(scope="module")
def example():
    spec = importlib.util.spec_from_file_location("multi_worker", EXAMPLE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.tensorflow_backend
def test_two_workers_end_identical_and_equal_to_one_process(example, tmp_path):
    between_workers, from_one_process = example.main(["--steps", "3", "--out", str(tmp_path)])
    assert between_workers == 0.0
    assert from_one_process < 1e-5


@pytest.mark.tensorflow_backend
def test_killed_workers_resume_from_their_checkpoint_to_the_same_weights(example, tmp_path):
    """Keras 3: the custom loop's CheckpointManager, killed mid-epoch. Keras 2:
    `fit` with BackupAndRestore, killed at the end of the first of two epochs."""
    steps = ["--steps", "4"] if IS_KERAS_3 else ["--steps", "2", "--epochs", "2"]
    between_workers, from_one_process = example.main([*steps, "--kill-after-step", "2", "--out", str(tmp_path)])
    # (BackupAndRestore empties its folder once training has finished)
    assert (tmp_path / ("checkpoints" if IS_KERAS_3 else "backup")).is_dir()
    assert between_workers == 0.0
    assert from_one_process < 1e-5


# Once per CI run: in the JAX backend's run (they start JAX processes of their own).
jax_run = pytest.mark.skipif(
    not IS_KERAS_3 or keras.backend.backend() != "jax", reason="runs in the KERAS_BACKEND=jax suite"
)


@jax_run
def test_jax_data_parallel_over_two_devices_equals_one_device(example):
    assert example.jax_data_parallel(steps=3) < 1e-5


@jax_run
def test_two_jax_processes_end_identical_and_equal_to_one_device(example):
    between_processes, from_one_device = example.jax_processes(steps=3, processes=2)
    assert between_processes == 0.0
    assert from_one_device < 1e-5
