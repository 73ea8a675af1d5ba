"""Shared fixtures. Runs before TensorFlow initializes its devices."""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402
import pytest  # noqa: E402
import tensorflow as tf  # noqa: E402

from tensorflow_lnrnn.utils.compat import keras  # noqa: E402

# Two logical CPUs, so that tf.distribute.MirroredStrategy has replicas to mirror.
_cpus = tf.config.list_physical_devices("CPU")
tf.config.set_logical_device_configuration(
    _cpus[0], [tf.config.LogicalDeviceConfiguration(), tf.config.LogicalDeviceConfiguration()]
)


@pytest.fixture(autouse=True)
def _seed_and_clean_state():
    keras.utils.set_random_seed(1234)
    yield
    keras.backend.clear_session()


@pytest.fixture(scope="session")
def mirrored_strategy():
    """One MirroredStrategy over the two logical CPUs for the whole session
    (separate instances in one process can collide on collective keys)."""
    return tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])


@pytest.fixture
def rng():
    return np.random.default_rng(42)


@pytest.fixture(params=["cpu", "gpu"])
def device(request):
    """Runs a test on each device kind present; GPU cases skip without a GPU."""
    if request.param == "gpu" and not tf.config.list_physical_devices("GPU"):
        pytest.skip("no GPU visible")
    with tf.device(f"/{request.param}:0"):
        yield request.param
