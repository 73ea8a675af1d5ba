"""Every way a model is saved, for every cell: outputs must be identical after."""

import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest
import tensorflow as tf

from tensorflow_lnrnn import activations
from tensorflow_lnrnn.utils.compat import IS_KERAS_3, keras
from tensorflow_lnrnn.utils.test_utils import assert_all_equal, randomize_weights
from tests.cell_cases import ALL_VARIANT_CASES

BATCH, TIME, INPUT_DIM, UNITS = 2, 4, 3, 4
REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

pytestmark = [pytest.mark.parametrize("case", ALL_VARIANT_CASES, ids=str), pytest.mark.tensorflow_backend]
EXPORT_KWARGS = {"verbose": False} if IS_KERAS_3 else {}  # Keras 2's export has no `verbose`


@pytest.fixture
def inputs(rng):
    return rng.normal(size=(BATCH, TIME, INPUT_DIM)).astype("float32")


def make_model(case):
    """A model with the cell in RNN (with state) and the whole-sequence layer in
    Bidirectional."""
    inputs = keras.Input((TIME, INPUT_DIM), name="sequence")
    sequences, *states = keras.layers.RNN(case.make(UNITS), return_sequences=True, return_state=True)(inputs)
    both_ways = keras.layers.Bidirectional(case.make_sequence_layer("layer", UNITS + 1))(sequences)
    model = keras.Model(inputs, [both_ways, *states])
    randomize_weights(model)
    return model


def test_cell_config_round_trip(case, inputs):
    cell = case.make(UNITS, dropout=0.25, name="my_cell")
    config = cell.get_config()
    clone = case.cell_class.from_config(config)
    assert clone.get_config() == config
    assert type(clone) is case.cell_class
    original, copy = keras.layers.RNN(cell), keras.layers.RNN(clone)
    original.build((None, None, INPUT_DIM))
    copy.build((None, None, INPUT_DIM))
    copy.set_weights(randomize_weights(original))
    assert_all_equal(copy(inputs), original(inputs))


def test_config_round_trip_with_a_registered_function_activation(case, inputs):
    # Keras 3 serializes a function as a dict; Bidirectional rebuilds its
    # backward layer from such a config, so the constructor must take it.
    cell = case.make(UNITS, activation=activations.hard_sigmoid_keras2)
    clone = case.cell_class.from_config(cell.get_config())
    assert clone.activation is activations.hard_sigmoid_keras2
    layer = keras.layers.Bidirectional(keras.layers.RNN(cell))
    assert layer.backward_layer.cell.activation is activations.hard_sigmoid_keras2


def test_rnn_layer_config_round_trip(case, inputs):
    layer = keras.layers.RNN(case.make(UNITS), return_sequences=True, go_backwards=True)
    layer.build((None, None, INPUT_DIM))
    weights = randomize_weights(layer)
    clone = keras.layers.deserialize(keras.layers.serialize(layer))
    assert type(clone.cell) is case.cell_class
    assert clone.get_config() == layer.get_config()
    clone.build((None, None, INPUT_DIM))
    clone.set_weights(weights)
    assert_all_equal(clone(inputs), layer(inputs))


@pytest.mark.parametrize("extension", [".keras", ".h5"])
def test_model_file_round_trip(case, inputs, tmp_path, extension):
    model = make_model(case)
    path = str(tmp_path / f"model{extension}")
    model.save(path)
    restored = keras.models.load_model(path)  # no custom_objects needed
    assert any(isinstance(getattr(layer, "cell", None), case.cell_class) for layer in restored.layers)
    assert_all_equal(restored.predict(inputs, verbose=0), model.predict(inputs, verbose=0))


def save_tf_saved_model(model, path):
    @tf.function(input_signature=[tf.TensorSpec((None, TIME, INPUT_DIM), tf.float32)])
    def serve(sequence):
        return {f"output_{i}": t for i, t in enumerate(model(sequence))}

    tf.saved_model.save(model, path, signatures={"serving_default": serve})


@pytest.mark.slow_in_variants
def test_tf_saved_model_round_trip(case, inputs, tmp_path):
    model = make_model(case)
    save_tf_saved_model(model, str(tmp_path / "saved"))
    restored = tf.saved_model.load(str(tmp_path / "saved"))
    outputs = restored.signatures["serving_default"](tf.constant(inputs))
    expected = model(inputs)
    assert_all_equal([outputs[f"output_{i}"] for i in range(len(expected))], expected, atol=1e-6)


@pytest.mark.slow_in_variants
def test_export_and_tfsm_layer_round_trip(case, inputs, tmp_path):
    model = make_model(case)
    model.export(str(tmp_path / "exported"), **EXPORT_KWARGS)
    if hasattr(keras.layers, "TFSMLayer"):
        restored = keras.layers.TFSMLayer(str(tmp_path / "exported"), call_endpoint="serve")
        outputs = restored(inputs)
    else:  # Keras 2 has no TFSMLayer: call the exported endpoint directly.
        restored = tf.saved_model.load(str(tmp_path / "exported"))
        outputs = restored.serve(tf.constant(inputs))
    assert_all_equal(outputs, model(inputs), atol=1e-6)


def test_saved_models_serve_without_the_package(case, inputs, tmp_path):
    """Deployment: a fresh process that never imports tensorflow_lnrnn serves both."""
    if case.cell_kwargs:
        pytest.skip("a subprocess per case: the default convention stands for all (the graph is the same kind)")
    model = make_model(case)
    save_tf_saved_model(model, str(tmp_path / "saved"))
    model.export(str(tmp_path / "exported"), **EXPORT_KWARGS)
    np.save(tmp_path / "inputs.npy", inputs)
    np.savez(tmp_path / "expected.npz", *[np.asarray(t) for t in model(inputs)])
    script = textwrap.dedent(
        f"""
        import sys
        import numpy as np
        import tensorflow as tf
        inputs = tf.constant(np.load({str(tmp_path / "inputs.npy")!r}))
        expected = list(np.load({str(tmp_path / "expected.npz")!r}).values())
        saved = tf.saved_model.load({str(tmp_path / "saved")!r})  # keep it: it owns the variables
        served = saved.signatures["serving_default"](inputs)
        served = [served[f"output_{{i}}"] for i in range(len(expected))]
        exported_model = tf.saved_model.load({str(tmp_path / "exported")!r})
        exported = exported_model.serve(inputs)
        for outputs in (served, exported):
            for got, want in zip(outputs, expected):
                np.testing.assert_allclose(got.numpy(), want, atol=1e-6, rtol=0)
        assert not any(name.startswith("tensorflow_lnrnn") for name in sys.modules)
        print("SERVED", len(expected))
        """
    )
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "PYTHONPATH": ""}
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=str(tmp_path), env=env, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert f"SERVED {1 + case.num_states}" in result.stdout
