"""LiteRT: every public class converts with the standard `tf.lite.TFLiteConverter`
to built-in ops only and runs in `ai_edge_litert`'s interpreter, resized to any
batch, with Keras's outputs; float16 quantization stays within 1e-2.

What takes built-in ops only (docs/deployment.md says why):
- a whole-sequence layer with `return_sequences=False`: its fast loop, any batch;
- `return_sequences=True` (stacks, `Bidirectional`) and `RNN(cell)`: with
  `unroll=True` over a fixed time axis, any batch; or the loop with a fixed
  batch size. With the loop and a dynamic batch, the per-step outputs are a
  TensorFlow tensor list whose element shape is not static, which LiteRT cannot
  lower: those need `SELECT_TF_OPS` (the Flex delegate, which the pip
  `ai-edge-litert` interpreter lacks).
"""

import numpy as np
import pytest

from tensorflow_lnrnn.utils.compat import keras
from tensorflow_lnrnn.utils.test_utils import randomize_weights
from tests.cell_cases import CELL_CASES
from tests.deployment import models

# slow: conversions of ~10 s each, in the `[deploy]` extra; CI runs them (`-m ""`).
pytestmark = [pytest.mark.tensorflow_backend, pytest.mark.slow]
litert = pytest.importorskip("ai_edge_litert.interpreter", reason="pip install -e '.[deploy]'")


def convert(model=None, saved_model=None, float16=False):
    import tensorflow as tf

    if saved_model:
        converter = tf.lite.TFLiteConverter.from_saved_model(saved_model)
    else:
        converter = tf.lite.TFLiteConverter.from_keras_model(model)
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS]  # built-in ops only
    if float16:
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
        converter.target_spec.supported_types = [tf.float16]
    return converter.convert()


def run_litert(flatbuffer, x):
    interpreter = litert.Interpreter(model_content=flatbuffer)
    (input_detail,) = interpreter.get_input_details()
    interpreter.resize_tensor_input(input_detail["index"], list(x.shape))
    interpreter.allocate_tensors()
    interpreter.set_tensor(input_detail["index"], x)
    interpreter.invoke()
    outputs = sorted(interpreter.get_output_details(), key=lambda d: d["name"])
    return [interpreter.get_tensor(d["index"]) for d in outputs]


def assert_matches_keras(model, flatbuffer, batches=(3, 1), atol=1e-4):
    for batch in batches:
        x = models.inputs(batch)
        got, expected = run_litert(flatbuffer, x), models.keras_outputs(model, x)
        assert len(got) == len(expected)
        # LiteRT names outputs by position in the signature; match shapes where they differ.
        for g, e in zip(sorted(got, key=np.shape), sorted(expected, key=np.shape)):
            np.testing.assert_allclose(g, e, atol=atol, rtol=0)


@pytest.mark.parametrize("case, kind, architecture", models.model_params())
def test_unrolled_models_convert_to_builtins_for_any_batch(case, kind, architecture, tmp_path):
    model = models.build(case, kind, architecture, unroll=True)
    assert_matches_keras(model, convert(model))
    model.export(str(tmp_path / "saved"), verbose=False)
    assert_matches_keras(model, convert(saved_model=str(tmp_path / "saved")))
    assert_matches_keras(model, convert(model, float16=True), atol=1e-2)


@pytest.mark.parametrize("case", CELL_CASES, ids=str)
def test_the_fast_loop_converts_to_builtins_for_any_batch_and_time(case, tmp_path):
    x = keras.Input((None, models.INPUT_DIM))
    model = keras.Model(x, case.layer_class(models.UNITS)(keras.layers.Masking()(x)))
    randomize_weights(model, scale=0.3)
    flatbuffer = convert(model)
    assert_matches_keras(model, flatbuffer)
    assert_matches_keras(model, convert(model, float16=True), atol=1e-2)


@pytest.mark.parametrize("case, kind, architecture", models.model_params())
def test_the_loop_with_a_fixed_batch_converts_to_builtins(case, kind, architecture):
    model = models.build(case, kind, architecture, batch_size=3)
    assert_matches_keras(model, convert(model), batches=(3,))


@pytest.mark.parametrize("case", CELL_CASES, ids=str)
def test_sequences_from_the_loop_with_a_dynamic_batch_need_select_ops(case):
    """The documented limit, pinned: it is LiteRT's, and Keras's own LSTM has it too."""
    for layer in (case.layer_class(models.UNITS, return_sequences=True), keras.layers.LSTM(3, return_sequences=True)):
        x = keras.Input((models.TIME, models.INPUT_DIM))
        with pytest.raises(Exception, match="tensor list"):  # noqa: B017 - the converter's error
            convert(keras.Model(x, layer(x)))
