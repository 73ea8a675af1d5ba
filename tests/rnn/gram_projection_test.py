"""The fast paths' normalization of a projection by the kernel's Gram matrix
(TensorFlow: `tf_array_ops.gram_projection`, JAX: `jax_fast_path.gram_projection`),
against the direct normalization of the product: values and gradients, and its
rounding on ill-conditioned kernels against float64 NumPy. (Whole layers with
it: fast_path_test.py and masking_test.py, where the loop plan turns it on.)"""

import numpy as np
import pytest


def _centered(kernel):
    return kernel - kernel.mean(axis=-1, keepdims=True)


def _direct(v, kernel, gamma, shift, epsilon):
    """NumPy, float64: LN(v kernel) * gamma + shift."""
    product = v @ kernel
    deviation = product - product.mean(axis=-1, keepdims=True)
    return deviation / np.sqrt((deviation**2).mean(axis=-1, keepdims=True) + epsilon) * gamma + shift


def _kernel_with_condition_number(rng, rows, columns, condition):
    """A (rows, columns) kernel, centered columns, singular values from 1 to 1 / condition."""
    left, _ = np.linalg.qr(rng.normal(size=(rows, rows)))
    right, _ = np.linalg.qr(rng.normal(size=(columns, rows)))
    return _centered((left * np.logspace(0, -np.log10(condition), rows)) @ right.T)


class _TensorFlow:
    def __init__(self):
        from tensorflow_lnrnn.rnn import fused_steps, tf_array_ops

        self.gram_projection = tf_array_ops.gram_projection
        self.plain_projection = lambda *args: fused_steps.plain_projection(tf_array_ops.TFArrayOps(), *args)

    def value_and_gradients(self, make_projection, v, kernel, gamma, shift, epsilon, cotangent):
        """(out, d v, d kernel, d gamma) of `make_projection(kernel, gamma, shift, epsilon)(v)`, NumPy."""
        import tensorflow as tf

        v, kernel, gamma, cotangent = (tf.constant(a) for a in (v, kernel, gamma, cotangent))
        shift = None if shift is None else tf.constant(shift)
        with tf.GradientTape() as tape:
            tape.watch([v, kernel, gamma])
            out = make_projection(kernel, gamma, shift, epsilon)(v)
            loss = tf.reduce_sum(out * cotangent)
        return [t.numpy() for t in [out, *tape.gradient(loss, [v, kernel, gamma])]]


class _Jax:
    def __init__(self):
        pytest.importorskip("jax")
        from tensorflow_lnrnn.rnn import fused_steps, jax_fast_path

        self.gram_projection = jax_fast_path.gram_projection
        self.plain_projection = lambda *args: fused_steps.plain_projection(jax_fast_path.JaxArrayOps(), *args)

    def value_and_gradients(self, make_projection, v, kernel, gamma, shift, epsilon, cotangent):
        import jax
        import jax.numpy as jnp

        shift = None if shift is None else jnp.asarray(shift)
        out, vjp = jax.vjp(lambda *a: make_projection(a[1], a[2], shift, epsilon)(a[0]), v, kernel, gamma)
        return [np.asarray(a) for a in (out, *vjp(jnp.asarray(cotangent)))]


LIBRARIES = [
    pytest.param(_TensorFlow, id="tensorflow", marks=pytest.mark.tensorflow_backend),
    pytest.param(_Jax, id="jax"),
]


@pytest.mark.parametrize("library", LIBRARIES)
@pytest.mark.parametrize("with_shift", [False, True])
def test_values_and_gradients_equal_the_direct_normalization(rng, library, with_shift):
    library = library()
    rows, columns, epsilon = 6, 20, 1e-3
    kernel = _centered(rng.normal(size=(rows, columns))).astype("float32")
    gamma = rng.normal(size=columns).astype("float32")
    shift = rng.normal(size=columns).astype("float32") if with_shift else None
    v = rng.normal(size=(5, rows)).astype("float32")
    cotangent = rng.normal(size=(5, columns)).astype("float32")
    args = (v, kernel, gamma, shift, epsilon, cotangent)
    gram = library.value_and_gradients(library.gram_projection, *args)
    plain = library.value_and_gradients(library.plain_projection, *args)
    for got, expected in zip(gram, plain):
        np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-5)
    expected = _direct(v, kernel, gamma, 0.0 if shift is None else shift, epsilon)
    np.testing.assert_allclose(gram[0], expected, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("library", LIBRARIES)
@pytest.mark.parametrize("condition", [1, 100, 1000])
@pytest.mark.parametrize("inputs", ["random", "aligned", "offset", "scaled", "scaled_aligned"])
def test_rounding_stays_at_the_direct_computations_on_ill_conditioned_kernels(rng, library, condition, inputs):
    """`v G v^T` squares the kernel's condition number; the epsilon under the
    square root bounds what that can do. Inputs drawn at random, or mostly
    along the kernel's weakest direction (a tiny variance); and, as a layer's
    inputs can be (the input projection is normalized this way too), far
    from zero or of a large scale."""
    library = library()
    rows, columns, epsilon = 64, 256, 1e-3
    kernel = _kernel_with_condition_number(rng, rows, columns, condition)
    v = rng.normal(size=(32, rows))
    weakest = np.linalg.svd(kernel, full_matrices=False)[0][:, -1]
    v = {
        "random": v,
        "aligned": 3.0 * weakest + 1e-2 * v,
        "offset": 1000.0 + v,
        "scaled": 1000.0 * v,
        "scaled_aligned": 3000.0 * weakest + 10.0 * v,
    }[inputs]
    gamma, shift = np.ones(columns), np.zeros(columns)
    expected = _direct(v, kernel, gamma, shift, epsilon)
    as_float32 = lambda array: array.astype("float32")  # noqa: E731
    project = library.gram_projection(as_float32(kernel), as_float32(gamma), None, epsilon)
    gram_error = np.abs(np.asarray(project(as_float32(v))) - expected).max()
    product = v.astype("float32") @ kernel.astype("float32")
    direct = product / np.sqrt((product**2).mean(axis=-1, keepdims=True) + np.float32(epsilon))
    direct_error = np.abs(direct - expected).max()
    if inputs == "scaled_aligned":
        # The one case where the Gram form is measurably worse: inputs of a
        # large scale along an ill-conditioned kernel's weakest direction
        # (the rounding of `v G v^T` relative to a variance the input's other
        # directions make): up to about 10x the direct computation's error,
        # 4e-4 of the normalized output at most (docs/performance.md).
        assert gram_error < max(20 * direct_error, 1e-5) and gram_error < 1e-3
    else:
        assert gram_error < max(2 * direct_error, 1e-5)


@pytest.mark.tensorflow_backend
def test_the_tf_plan_turns_it_on_for_kernels_of_few_rows_in_training(monkeypatch):
    import tensorflow as tf

    from tensorflow_lnrnn.rnn import tf_array_ops, tf_fast_path

    if tf.config.list_logical_devices("GPU"):
        pytest.skip("the plans are for CPU-only machines")
    training = tf_fast_path.loop_plan("lstm", 64, 128, training=True)
    assert training.gram_up_to == tf_fast_path.GRAM_UP_TO == 128
    assert training.gram_input_up_to == tf_fast_path.GRAM_INPUT_UP_TO == 32
    inference = tf_fast_path.loop_plan("lstm", 64, 128, training=False)
    assert inference.gram_up_to is None and inference.gram_input_up_to is None
    used = []
    monkeypatch.setattr(tf_array_ops, "gram_projection", lambda kernel, *args: used.append(kernel.shape[0]))
    # The recurrent kernel by `gram_up_to`, the input's by `gram_input_up_to`.
    ops = tf_array_ops.TFArrayOps(gram_up_to=128, gram_input_up_to=32)
    kernels = ((128, "float32", True), (32, "float32", True), (192, "float32", True), (128, "float16", True))
    kernels += ((32, "float32", False), (16, "float32", False), (64, "float32", False), (32, "float16", False))
    for rows, dtype, recurrent in kernels:
        kernel = tf.zeros((rows, 512), dtype)
        ops.normalized_projection(kernel, tf.ones((512,)), None, 1e-3, recurrent=recurrent)
    assert used == [128, 32, 32, 16]
    used.clear()
    for recurrent in (True, False):
        tf_array_ops.TFArrayOps().normalized_projection(
            tf.zeros((32, 512)), tf.ones((512,)), None, 1e-3, recurrent=recurrent
        )
    assert used == []


def test_the_jax_loop_turns_it_on_for_kernels_of_few_rows_in_training(monkeypatch):
    pytest.importorskip("jax")
    import jax.numpy as jnp

    from tensorflow_lnrnn.rnn import jax_fast_path

    used = []
    monkeypatch.setattr(jax_fast_path, "gram_projection", lambda kernel, *args: used.append(kernel.shape[0]))
    ops = jax_fast_path.JaxArrayOps(gram_up_to=jax_fast_path.GRAM_UP_TO_IN_TRAINING)
    for rows, dtype in ((64, "float32"), (32, "float32"), (65, "float32"), (32, "float16")):
        ops.normalized_projection(jnp.zeros((rows, 512), dtype), jnp.ones((512,)), None, 1e-3)
    assert used == [64, 32]
    used.clear()
    jax_fast_path.JaxArrayOps(gram_up_to=None).normalized_projection(jnp.zeros((32, 512)), jnp.ones((512,)), None, 1e-3)
    assert used == []
