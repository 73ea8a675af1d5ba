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
