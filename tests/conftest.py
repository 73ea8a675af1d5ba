"""Shared fixtures. Runs before TensorFlow initializes its devices.

The suite runs on every Keras 3 backend (`KERAS_BACKEND=tensorflow|jax|torch`)
and on Keras 2. Tests that need TensorFlow itself (TF ops, SavedModel,
tf.distribute, the TF fast path) carry the `tensorflow_backend` mark and are
skipped on the other backends.
"""

import inspect
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
# JAX multiplies float32 matrices in TF32 on recent NVIDIA GPUs (about 1e-3
# relative error): the suite compares with float64 NumPy references at 1e-5, so
# ask for full float32 (this process and the subprocesses it starts).
os.environ.setdefault("JAX_DEFAULT_MATMUL_PRECISION", "highest")

import numpy as np  # noqa: E402
import pytest  # noqa: E402
from hypothesis import settings  # noqa: E402

# The hypothesis matrix (masking_test.py) draws 40 examples a class. CI's later
# environments (JAX and PyTorch backends, Keras 2) run it with
# HYPOTHESIS_PROFILE=ci-later-environments: 20 of the same derandomized draws, to
# keep CI inside its time; the first environment runs all 40.
settings.register_profile("full", max_examples=40)
settings.register_profile("ci-later-environments", max_examples=20)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "full"))

from tensorflow_lnrnn.utils.compat import IS_KERAS_3, keras  # noqa: E402

BACKEND = keras.backend.backend() if IS_KERAS_3 else "tensorflow"

if BACKEND == "tensorflow":
    import tensorflow as tf

    # Two logical CPUs, so that tf.distribute.MirroredStrategy has replicas to mirror.
    _cpus = tf.config.list_physical_devices("CPU")
    tf.config.set_logical_device_configuration(
        _cpus[0], [tf.config.LogicalDeviceConfiguration(), tf.config.LogicalDeviceConfiguration()]
    )


def pytest_collection_modifyitems(config, items):
    skip = pytest.mark.skip(reason=f"needs the TensorFlow backend (this run: {BACKEND})")
    for item in items:
        if BACKEND != "tensorflow" and "tensorflow_backend" in item.keywords:
            item.add_marker(skip)
        # The slowest tests run in every convention only in CI (`-m slow`); the
        # default run keeps them for the default convention.
        if item.get_closest_marker("slow_in_variants") and hasattr(item, "callspec"):
            case = item.callspec.params.get("case")
            if getattr(case, "cell_kwargs", None):
                item.add_marker(pytest.mark.slow)


# Keras 3's clear_session also runs a full garbage collection by default,
# which took most of the suite's time (0.8 s a test); Python's own collector
# still runs. (Keras 2's takes no argument and collects nothing.)
_CLEAR_SESSION_ARGS = (
    {"free_memory": False} if "free_memory" in inspect.signature(keras.backend.clear_session).parameters else {}
)


@pytest.fixture(autouse=True)
def _seed_and_clean_state():
    keras.utils.set_random_seed(1234)
    yield
    keras.backend.clear_session(**_CLEAR_SESSION_ARGS)
    if BACKEND == "jax":
        # JAX keeps every compiled executable, and XLA's CPU runtime maps each
        # one's code into memory: a test over many hypothesis draws adds about
        # 370 maps a draw, and a process past Linux's limit of 65530
        # (vm.max_map_count) segfaults in XLA's compiler (seen after 180 draws
        # in one process). Freeing them after each test bounds the count.
        import jax

        jax.clear_caches()


@pytest.fixture(scope="session")
def mirrored_strategy():
    """One MirroredStrategy over the two logical CPUs for the whole session
    (separate instances in one process can collide on collective keys)."""
    return tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])


@pytest.fixture
def rng():
    return np.random.default_rng(42)


def _gpu_visible():
    if BACKEND == "tensorflow":
        return bool(tf.config.list_physical_devices("GPU"))
    if BACKEND == "jax":
        import jax

        return any(d.platform == "gpu" for d in jax.devices())
    if BACKEND == "torch":
        import torch

        return torch.cuda.is_available()
    return False


@pytest.fixture(params=["cpu", "gpu"])
def device(request):
    """Runs a test on each device kind present; GPU cases skip without a GPU."""
    if request.param == "gpu" and not _gpu_visible():
        pytest.skip("no GPU visible")
    scope = keras.device(f"{request.param}:0") if IS_KERAS_3 else tf.device(f"/{request.param}:0")
    with scope:
        yield request.param
