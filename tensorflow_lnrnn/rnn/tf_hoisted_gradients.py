"""The TF fast path's weight gradients of the projections (`x W` and `h U`),
taken out of the backward loop: one matmul after it instead of one per step.

TensorFlow's autodiff of the loop computes `h_t^T dz_t` at every step and adds
it to a (units, width) accumulator: for a large kernel that is a thin matmul
and a full pass over the accumulator's memory per step. Here the loop
multiplies by the kernel with its gradient stopped, and hands each step's
`dz_t` to a zero "probe" read from a TensorArray; the gradient of the probes
is then every step's `dz` at once, (T, B, width), and the kernel's gradient is
one (K, T*B) x (T*B, width) matmul over the matmul inputs the loop recorded.
The numbers are the same (`tests/robustness/masking_test.py` draws this plan
among the others, values and gradients against Keras's loop).

Measured (docs/performance.md): a win for kernels from 512 x 512 (they and
their per-step gradients outgrow the cores' caches; the SimpleRNN's, of one
gate's width, from 1024 x 1024), even or a loss below,
where the per-step matmuls are cheap and run beside the recurrence's chain of
small ops; `tf_fast_path.loop_plan` decides.
"""

import tensorflow as tf

from tensorflow_lnrnn.rnn import fused_steps
from tensorflow_lnrnn.rnn.tf_array_ops import TFArrayOps


class HoistedKernel:
    """A centered kernel whose weight gradient is hoisted: `value` (outside
    the loop, differentiable: the probes' gradient goes there) and `stopped`
    (what the loop's matmuls use)."""

    def __init__(self, value):
        self.value = value
        self.stopped = tf.stop_gradient(value)


class HoistedArrayOps(TFArrayOps):
    """`fused_steps.py`'s namespace for a loop with hoisted weight gradients:
    `center_columns` (how every step function gets its kernels, through
    `fused_steps._centered`) returns a `HoistedKernel`, and `matmul` by one
    reads that kernel's probe for the current step and records its input."""

    def __init__(self, min_shape, gram_up_to=None, gram_input_up_to=None):
        """`min_shape`: (rows, columns); smaller kernels keep their per-step
        gradients. `gram_up_to`, `gram_input_up_to`: as `TFArrayOps`'s."""
        super().__init__(gram_up_to, gram_input_up_to)
        self.min_shape = min_shape
        self.kernels = []
        self._probes = self._inputs = None

    def hoists(self, shape):
        return all(size >= least for size, least in zip(shape, self.min_shape))

    def center_columns(self, w):
        if not self.hoists(w.shape):
            return TFArrayOps.center_columns(w)
        kernel = HoistedKernel(TFArrayOps.center_columns(w))
        self.kernels.append(kernel)
        return kernel

    def normalized_projection(self, kernel, gamma, shift, epsilon, recurrent=False):
        if isinstance(kernel, HoistedKernel):  # (its matmul below reads the step's probe)
            return fused_steps.plain_projection(self, kernel, gamma, shift, epsilon)
        return super().normalized_projection(kernel, gamma, shift, epsilon, recurrent)

    def matmul(self, a, b):
        if not isinstance(b, HoistedKernel):
            return tf.matmul(a, b)
        index = self.kernels.index(b)
        self._inputs[index] = a
        return _matmul_with_probe(a, b.stopped, self._probes[index])

    def step(self, probes, run_step):
        """`run_step()` (one lane's step) with `probes` (one per kernel, this
        step's): returns its result and the inputs of each kernel's matmul."""
        self._probes, self._inputs = probes, [None] * len(self.kernels)
        try:
            result = run_step()
            assert all(a is not None for a in self._inputs), "every kernel is multiplied once per step"
            return result, self._inputs
        finally:
            self._probes = self._inputs = None


def _matmul_with_probe(a, stopped_kernel, probe):
    """`a @ kernel`, whose output gradient also goes to `probe` (unused forward)."""

    @tf.custom_gradient
    def product(a, probe):
        def gradient(upstream):
            return tf.matmul(upstream, stopped_kernel, transpose_b=True), upstream

        return tf.matmul(a, stopped_kernel), gradient

    return product(a, probe)


class LaneProbes:
    """One lane's probes and recorded matmul inputs, for every hoisted kernel."""

    def __init__(self, kernels, steps, batch):
        """`batch`: the lane's rows (an int or a scalar tensor)."""
        self.kernels = kernels
        static_batch = batch if isinstance(batch, int) else None
        # (A kernel's rows are the width of what multiplies it.)
        self.recorded = [
            tf.TensorArray(kernel.value.dtype, size=steps, element_shape=(static_batch, kernel.value.shape[0]))
            for kernel in kernels
        ]
        self._stacked = [None] * len(kernels)  # the recorded inputs, after the loop
        self.probes = [self._probes(i, steps, batch) for i in range(len(kernels))]

    def _probes(self, index, steps, batch):
        value = self.kernels[index].value
        width = value.shape[-1]

        @tf.custom_gradient
        def probes(value):
            def gradient(d_probes):
                # In float32 (a sum over T*B products); the kernel's dtype after.
                inputs = tf.reshape(tf.cast(self._stacked[index], tf.float32), [-1, value.shape[0]])
                d_z = tf.reshape(tf.cast(d_probes, tf.float32), [-1, width])
                return tf.cast(tf.matmul(inputs, d_z, transpose_a=True), value.dtype)

            return tf.zeros(tf.stack([steps, batch, width]), value.dtype), gradient

        return tf.TensorArray(value.dtype, size=steps).unstack(probes(value))

    def read(self, t):
        return [probes.read(t) for probes in self.probes]

    def finish(self, recorded):
        """After the loop: the recorded arrays the loop returned."""
        self._stacked = [array.stack() for array in recorded]
