"""The stand-alone measurement behind the TF fast path's hoisted weight gradients.

The weight gradients of the recurrent (and input) matmul are hoisted out of
TensorFlow's backward loop: inside the loop the matmul uses
`stop_gradient(U)`, and the normalization after it, whose custom gradient
computes its input gradient dz_t anyway, also returns dz_t for a zero "probe"
read per step from a TensorArray; the backward loop then writes dz_t per step,
and one (H, T*B) x (T*B, 4H) matmul after the loop gives dU (the probe's
custom gradient). Autodiff does everything else.

A stand-alone LSTM loop with the fast path's math (centered kernels, the
fast path's `layer_norm`), timed interleaved against the same loop with plain
autodiff, after checking that the gradients agree:

    python benchmarks/weight_gradient_probe.py [--size small|large] [--repeats 25]

Measured in session 5 (docs/performance.md): 1.11-1.24x slower at the small
size, 0.87-0.89x at the large one. The package does it since session 6 for
kernels from 512 x 512 (`tensorflow_lnrnn/rnn/tf_hoisted_gradients.py`, through
the steps' namespace, with the probe on the matmul instead of the normalization).
"""

import argparse
import time

import numpy as np
import tensorflow as tf

from tensorflow_lnrnn.rnn.tf_array_ops import layer_norm

SIZES = {
    "tiny": (4, 5, 3, 2),  # (batch, time, input, units): tests only
    "small": (64, 100, 32, 128),
    "large": (32, 200, 128, 512),
}
EPSILON = 1e-3


def layer_norm_with_probe(v, gamma, probe):
    """`layer_norm(v, gamma, None, EPSILON, centered=True)`, whose gradient
    also goes to `probe` (unused forward): the gradient for v."""

    @tf.custom_gradient
    def normalize(v, gamma, probe):
        inverse_std = tf.math.rsqrt(tf.reduce_mean(tf.square(v), -1, keepdims=True) + EPSILON)
        normalized = v * inverse_std

        def gradient(upstream):
            scaled = upstream * gamma
            d_v = (scaled - normalized * tf.reduce_mean(scaled * normalized, -1, keepdims=True)) * inverse_std
            return d_v, tf.reduce_sum(upstream * normalized, 0), d_v

        return normalized * gamma, gradient

    return normalize(v, gamma, probe)


class Problem:
    def __init__(self, batch, time, input_dim, units, seed=0):
        rng = np.random.default_rng(seed)

        def variable(shape, scale=0.1):
            return tf.Variable(rng.normal(size=shape).astype("float32") * scale)

        self.shape = (batch, time, input_dim, units)
        width = 4 * units
        self.kernel, self.recurrent_kernel = variable((input_dim, width)), variable((units, width))
        self.gammas = [variable((width,), 1.0), variable((width,), 1.0), variable((units,), 1.0)]
        self.shift, self.state_beta = variable((width,)), variable((units,))
        self.weights = [self.kernel, self.recurrent_kernel, *self.gammas, self.shift, self.state_beta]
        self.x = tf.constant(rng.normal(size=(batch, time, input_dim)).astype("float32"))
        self.cotangent = tf.constant(rng.normal(size=(batch, units)).astype("float32"))

    def probes(self, kernel, matmul_inputs, holder=None):
        """Zeros (T, B, width) whose gradient is the kernel's: inputs^T x d(probes)."""
        batch, time, _, _ = self.shape

        @tf.custom_gradient
        def probes(kernel):
            def gradient(d_probes):
                inputs = holder["h"] if holder is not None else matmul_inputs
                inputs = tf.reshape(inputs, [-1, kernel.shape[0]])
                return tf.matmul(inputs, tf.reshape(d_probes, [-1, kernel.shape[1]]), transpose_a=True)

            return tf.zeros((time, batch, kernel.shape[1])), gradient

        return tf.TensorArray(tf.float32, size=time).unstack(probes(kernel))

    def loss(self, hoisted):
        """The LSTM fast path's loop (no options); `hoisted`: the probe above."""
        batch, time, _, units = self.shape
        kernel = self.kernel - tf.reduce_mean(self.kernel, -1, keepdims=True)
        recurrent_kernel = self.recurrent_kernel - tf.reduce_mean(self.recurrent_kernel, -1, keepdims=True)
        x_time_major = tf.transpose(self.x, [1, 0, 2])
        inputs = tf.TensorArray(tf.float32, size=time).unstack(x_time_major)
        k_gamma, r_gamma, s_gamma = self.gammas
        holder = {}
        if hoisted:
            k_probes = self.probes(kernel, x_time_major)
            r_probes = self.probes(recurrent_kernel, None, holder)
            kernel, recurrent_kernel = tf.stop_gradient(kernel), tf.stop_gradient(recurrent_kernel)

        def body(t, h, c, h_inputs):
            if hoisted:
                z = layer_norm_with_probe(tf.matmul(inputs.read(t), kernel), k_gamma, k_probes.read(t)) + self.shift
                z += layer_norm_with_probe(tf.matmul(h, recurrent_kernel), r_gamma, r_probes.read(t))
                h_inputs = h_inputs.write(t, h)
            else:
                z = layer_norm(tf.matmul(inputs.read(t), kernel), k_gamma, self.shift, EPSILON, centered=True)
                z += layer_norm(tf.matmul(h, recurrent_kernel), r_gamma, None, EPSILON, centered=True)
            i, f, g, o = tf.split(z, 4, -1)
            c = tf.sigmoid(f) * c + tf.sigmoid(i) * tf.tanh(g)
            h = tf.sigmoid(o) * tf.tanh(layer_norm(c, s_gamma, self.state_beta, EPSILON))
            return t + 1, h, c, h_inputs

        zeros = tf.zeros((batch, units))
        h_inputs = tf.TensorArray(tf.float32, size=time, element_shape=(batch, units)) if hoisted else tf.constant(0.0)
        _, h, _, h_inputs = tf.while_loop(
            lambda t, *_: t < time, body, (tf.constant(0), zeros, zeros, h_inputs), maximum_iterations=time
        )
        if hoisted:
            holder["h"] = h_inputs.stack()  # read by the probe's gradient, after the loop
        return tf.reduce_sum(h * self.cotangent)

    def gradient_step(self, hoisted):
        @tf.function
        def step():
            with tf.GradientTape() as tape:
                loss = self.loss(hoisted)
            return tape.gradient(loss, self.weights)

        return step


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", default="small", choices=sorted(SIZES))
    parser.add_argument("--repeats", type=int, default=25)
    args = parser.parse_args(argv)
    problem = Problem(*SIZES[args.size])
    steps = {"autodiff": problem.gradient_step(False), "hoisted": problem.gradient_step(True)}
    gradients = {name: step() for name, step in steps.items()}
    differences = [
        float(tf.reduce_max(tf.abs(a - b)) / (tf.reduce_max(tf.abs(a)) + 1e-30))
        for a, b in zip(gradients["autodiff"], gradients["hoisted"])
    ]
    print(f"largest relative gradient difference: {max(differences):.2e}")
    times = {name: [] for name in steps}
    for _ in range(args.repeats):
        for name, step in steps.items():
            start = time.perf_counter()
            [g.numpy() for g in step()]
            times[name].append(time.perf_counter() - start)
    medians = {name: float(np.median(samples)) * 1000 for name, samples in times.items()}
    print(
        f"{args.size}: autodiff {medians['autodiff']:.1f} ms, hoisted {medians['hoisted']:.1f} ms,"
        f" hoisted / autodiff {medians['hoisted'] / medians['autodiff']:.3f}"
    )
    return {"differences": differences, "milliseconds": medians}


if __name__ == "__main__":
    main()
