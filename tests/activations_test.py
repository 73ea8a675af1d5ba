"""Keras 2 activation names keep their Keras 2 meaning through `from_keras2`.

The fixture holds every Keras 2.15 activation's values (made on TF 2.15 by
scripts/make_keras2_activation_fixtures.py); on any Keras, the activation a
migrated config resolves to must give the same values.
"""

import os

import numpy as np
import pytest
import tensorflow as tf

from tensorflow_lnrnn import activations
from tensorflow_lnrnn.utils.compat import IS_KERAS_3, keras

pytestmark = pytest.mark.tensorflow_backend  # TF ops, SavedModels, tf.function

FIXTURE = np.load(os.path.join(os.path.dirname(__file__), "fixtures", "keras2_activations.npz"))
NAMES = [name for name in FIXTURE.files if name not in ("inputs", "keras_version")]


@pytest.mark.parametrize("name", NAMES)
def test_keras2_names_keep_their_keras2_values(name):
    resolved = keras.activations.get(activations.from_keras2(name))
    np.testing.assert_allclose(resolved(tf.constant(FIXTURE["inputs"])), FIXTURE[name], atol=1e-5)


def test_hard_sigmoid_is_the_one_keras3_changed():
    if not IS_KERAS_3:
        pytest.skip("Keras 3 only")
    plain = np.asarray(keras.activations.get("hard_sigmoid")(FIXTURE["inputs"]))
    assert np.abs(plain - FIXTURE["hard_sigmoid"]).max() > 0.05  # the drift we guard against


def test_function_config_form_is_understood():
    identifier = {"module": "keras.activations", "class_name": "function", "config": "hard_sigmoid"}
    assert activations.from_keras2(identifier) is activations.hard_sigmoid_keras2
    assert activations.from_keras2("tanh") == "tanh"


def test_portable_activation_round_trips_through_serialization():
    config = keras.activations.serialize(activations.hard_sigmoid_keras2)
    assert "LNRNN>hard_sigmoid_keras2" in str(config)
    assert keras.activations.deserialize(config) is activations.hard_sigmoid_keras2
