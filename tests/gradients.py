"""Gradients of a layer's outputs on every backend, for tests that compare the
fast path with Keras's generic loop: TensorFlow (Keras 3 and Keras 2,
`tf.GradientTape`), JAX (`jax.grad` of `stateless_call`) and PyTorch
(`torch.autograd.grad`)."""

from tests.conftest import BACKEND


def gradients(layer, inputs, call_kwargs, cotangents):
    """d(sum of outputs * cotangents) / d(inputs, trainable weights), as a list."""
    if BACKEND == "jax":
        return _jax_gradients(layer, inputs, call_kwargs, cotangents)
    if BACKEND == "torch":
        return _torch_gradients(layer, inputs, call_kwargs, cotangents)
    import tensorflow as tf

    x = tf.constant(inputs)
    with tf.GradientTape() as tape:
        tape.watch(x)
        outputs = _as_list(layer(x, **call_kwargs))
        loss = sum(tf.reduce_sum(o * c) for o, c in zip(outputs, cotangents))
    return tape.gradient(loss, [x] + layer.trainable_weights)


def compiled_with_unknown_shapes(layer, inputs, call_kwargs, cotangents):
    """TensorFlow: (outputs, `gradients`) from one `tf.function` traced with
    the batch and the length unknown (what a model without a fixed length
    traces), so that the fast path plans its loop for lengths known only at
    run time."""
    import tensorflow as tf

    def unknown(array, dtype=None):
        array = tf.convert_to_tensor(array, dtype)
        return tf.TensorSpec([None] * (len(array.shape) - 1) + [array.shape[-1]], array.dtype)

    mask = call_kwargs.get("mask")
    initial_state = call_kwargs.get("initial_state")
    args = [tf.constant(inputs), *([] if mask is None else [tf.constant(mask)])]
    args += [*(initial_state or []), *(tf.constant(c) for c in cotangents)]
    signature = [unknown(a) for a in args]
    if mask is not None:
        signature[1] = tf.TensorSpec([None, None], tf.bool)

    @tf.function(input_signature=signature)
    def compiled(x, *rest):
        kwargs = dict(call_kwargs)
        if mask is not None:
            kwargs["mask"], rest = rest[0], rest[1:]
        if initial_state:
            kwargs["initial_state"], rest = list(rest[: len(initial_state)]), rest[len(initial_state) :]
        with tf.GradientTape() as tape:
            tape.watch(x)
            outputs = _as_list(layer(x, **kwargs))
            loss = sum(tf.reduce_sum(tf.cast(o, c.dtype) * c) for o, c in zip(outputs, rest))  # (mixed precision)
        return outputs, tape.gradient(loss, [x] + layer.trainable_weights)

    return compiled(*args)


def _jax_gradients(layer, inputs, call_kwargs, cotangents):
    import jax
    import jax.numpy as jnp

    non_trainable = [v.value for v in layer.non_trainable_variables]

    def loss(x, trainable):
        outputs, _ = layer.stateless_call(trainable, non_trainable, x, **call_kwargs)
        return sum(jnp.sum(o * c) for o, c in zip(_as_list(outputs), cotangents))

    d_x, d_weights = jax.grad(loss, argnums=(0, 1))(jnp.asarray(inputs), [v.value for v in layer.trainable_variables])
    return [d_x, *d_weights]


def _torch_gradients(layer, inputs, call_kwargs, cotangents):
    import torch

    x = torch.tensor(inputs, requires_grad=True)
    outputs = _as_list(layer(x, **call_kwargs))
    loss = sum(torch.sum(o * torch.as_tensor(c, device=o.device)) for o, c in zip(outputs, cotangents))
    gradients = torch.autograd.grad(loss, [x] + [v.value for v in layer.trainable_variables])
    return [g.detach().cpu().numpy() for g in gradients]


def _as_list(outputs):
    return list(outputs) if isinstance(outputs, (list, tuple)) else [outputs]
