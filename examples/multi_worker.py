"""Train a model with layer-normalized RNNs on 2 local workers with TensorFlow's
`MultiWorkerMirroredStrategy`, and check the result against one process.

    python examples/multi_worker.py [--steps 6] [--workers 2]

It starts the workers on 127.0.0.1 (free ports), each feeding its share of
every global batch; prints each worker's loss per step; and checks that the
workers end with identical weights, equal to one process trained on the same
global batches. `--kill-after-step K` kills every worker (SIGKILL) after its
checkpoint at step K, then restarts them: they resume from the checkpoint
(`tf.train.CheckpointManager` in the custom loop; `BackupAndRestore` at an
epoch's end with Keras 2's `fit`) and must end where an uninterrupted run ends.

`--jax-data-parallel` trains instead with Keras 3's JAX distribution API
(`keras.distribution.DataParallel`) over 2 host devices and compares with one
device; `--jax-processes 2` does it across 2 JAX processes
(`keras.distribution.initialize`, CPU collectives over gloo).

Keras 3 runs a custom loop (`strategy.run`): Keras 3's `Model.fit` does not
run under this strategy (keras-team/keras#20585). Keras 2 (`tf.keras` 2.13-2.15,
`tf_keras`) runs `Model.fit`.
"""

import argparse
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

GLOBAL_BATCH, TIME, FEATURES, UNITS, LEARNING_RATE = 8, 6, 3, 5, 0.1


def data(steps):
    """The global batches, the same for every process: (steps * GLOBAL_BATCH, ...)."""
    import numpy as np

    rng = np.random.default_rng(0)
    x = rng.normal(size=(steps * GLOBAL_BATCH, TIME, FEATURES)).astype("float32")
    x[::3, 4:] = 0.0  # masked trailing steps
    y = rng.normal(size=(steps * GLOBAL_BATCH, 2)).astype("float32")
    return x, y


def build_model():
    import numpy as np

    import tensorflow_lnrnn as lnrnn
    from tensorflow_lnrnn.utils.compat import keras

    inputs = keras.Input((TIME, FEATURES))
    h = keras.layers.Masking()(inputs)
    h = lnrnn.LayerNormLSTM(UNITS, return_sequences=True)(h)
    h = keras.layers.Bidirectional(lnrnn.LayerNormGRU(UNITS, return_sequences=True))(h)
    h = keras.layers.RNN(lnrnn.LayerNormSimpleRNNCell(UNITS))(h)
    model = keras.Model(inputs, keras.layers.Dense(2)(h))
    rng = np.random.default_rng(42)  # the same start everywhere
    model.set_weights([rng.normal(scale=0.3, size=w.shape).astype("float32") for w in model.get_weights()])
    return model


def per_example_loss(y, prediction):
    import tensorflow as tf

    return tf.reduce_mean(tf.square(prediction - y), axis=-1)


def train_one_process(steps, epochs=1):
    """The reference: one process, plain loop, the same global batches."""
    import tensorflow as tf

    from tensorflow_lnrnn.utils.compat import keras

    x, y = data(steps)
    model, optimizer = build_model(), keras.optimizers.SGD(LEARNING_RATE)
    for step in range(steps * epochs):
        batch = slice(step % steps * GLOBAL_BATCH, (step % steps + 1) * GLOBAL_BATCH)
        with tf.GradientTape() as tape:
            loss = tf.reduce_mean(per_example_loss(y[batch], model(x[batch], training=True)))
        optimizer.apply_gradients(zip(tape.gradient(loss, model.trainable_variables), model.trainable_variables))
    return model.get_weights()


def worker(index, steps, epochs, out, kill_after_step):
    """One worker: its share of every global batch, a checkpoint every step."""
    import numpy as np
    import tensorflow as tf

    from tensorflow_lnrnn.utils.compat import IS_KERAS_3, keras

    strategy = tf.distribute.MultiWorkerMirroredStrategy()
    x, y = data(steps)
    with strategy.scope():
        model, optimizer = build_model(), keras.optimizers.SGD(LEARNING_RATE)
        step_counter = tf.Variable(0, dtype=tf.int64, trainable=False)

    if not IS_KERAS_3:  # Keras 2: Model.fit under the strategy, same data order
        model.compile(optimizer=optimizer, loss="mse")
        dataset = tf.data.Dataset.from_tensor_slices((x, y)).batch(GLOBAL_BATCH)
        options = tf.data.Options()
        options.experimental_distribute.auto_shard_policy = tf.data.experimental.AutoShardPolicy.DATA
        # Fault tolerance the Keras 2 way: a backup at each epoch's end, restored
        # by the next `fit`. (Mid-epoch backups resume the step count but replay
        # the epoch's data from its start, so they do not end where an
        # uninterrupted run does.)
        callbacks = [keras.callbacks.BackupAndRestore(os.path.join(out, "backup"))]
        if kill_after_step:

            def kill(epoch, logs):
                if (epoch + 1) * steps == kill_after_step:
                    os.kill(os.getpid(), signal.SIGKILL)  # after this epoch's backup

            callbacks.append(keras.callbacks.LambdaCallback(on_epoch_end=kill))
        dataset = dataset.with_options(options)
        history = model.fit(dataset, epochs=epochs, verbose=0, shuffle=False, callbacks=callbacks)
        losses = history.history["loss"]
    else:
        checkpoint = tf.train.Checkpoint(model=model, optimizer=optimizer, step=step_counter)
        # The chief writes the real checkpoint; the other worker a throwaway copy.
        directory = os.path.join(out, "checkpoints") if index == 0 else os.path.join(out, f"tmp-{index}")
        manager = tf.train.CheckpointManager(checkpoint, directory, max_to_keep=2)
        checkpoint.restore(tf.train.latest_checkpoint(os.path.join(out, "checkpoints")))

        def dataset_fn(context):
            # This worker's share of each global batch: every other example.
            dataset = tf.data.Dataset.from_tensor_slices((x, y)).repeat(epochs)
            dataset = dataset.skip(int(step_counter.numpy()) * GLOBAL_BATCH)
            dataset = dataset.shard(context.num_input_pipelines, context.input_pipeline_id)
            return dataset.batch(context.get_per_replica_batch_size(GLOBAL_BATCH))

        batches = iter(strategy.distribute_datasets_from_function(dataset_fn))

        @tf.function
        def train_step(batch):
            def replica_step(x, y):
                with tf.GradientTape() as tape:
                    prediction = model(x, training=True)
                    loss = tf.nn.compute_average_loss(per_example_loss(y, prediction), global_batch_size=GLOBAL_BATCH)
                optimizer.apply_gradients(
                    zip(tape.gradient(loss, model.trainable_variables), model.trainable_variables)
                )
                return loss

            return strategy.reduce("SUM", strategy.run(replica_step, args=batch), axis=None)

        losses = []
        while int(step_counter.numpy()) < steps * epochs:
            losses.append(float(train_step(next(batches))))
            step_counter.assign_add(1)
            manager.save(checkpoint_number=int(step_counter.numpy()))
            print(f"worker {index} step {int(step_counter.numpy())} loss {losses[-1]:.6f}", flush=True)
            if int(step_counter.numpy()) == kill_after_step:
                os.kill(os.getpid(), signal.SIGKILL)  # as a crash or a preemption would
    np.savez(os.path.join(out, f"weights-{index}.npz"), *model.get_weights())
    with open(os.path.join(out, f"losses-{index}.json"), "w") as f:
        json.dump(losses, f)


def jax_data_parallel(steps, devices=2):
    """Keras 3 on JAX: `Model.fit` under `keras.distribution.DataParallel` over
    `devices` host devices, against `fit` on one device. Returns the largest
    weight difference."""
    flag = f"--xla_force_host_platform_device_count={devices}"
    if os.environ.get("KERAS_BACKEND") != "jax" or flag not in os.environ.get("XLA_FLAGS", ""):
        env = {**os.environ, "KERAS_BACKEND": "jax", "XLA_FLAGS": f"{os.environ.get('XLA_FLAGS', '')} {flag}".strip()}
        command = [sys.executable, os.path.abspath(__file__), "--jax-data-parallel", "--steps", str(steps)]
        result = subprocess.run(command, env=env, capture_output=True, text=True, timeout=600)
        print(result.stdout, end="")
        assert result.returncode == 0, result.stderr[-3000:]
        return float(result.stdout.strip().splitlines()[-1].split()[-1])

    import numpy as np

    from tensorflow_lnrnn.utils.compat import keras

    x, y = data(steps)
    weights = []
    for distribution in (keras.distribution.DataParallel(devices=keras.distribution.list_devices("cpu")), None):
        keras.distribution.set_distribution(distribution)
        model = build_model()
        model.compile(optimizer=keras.optimizers.SGD(LEARNING_RATE), loss="mse")
        losses = model.fit(x, y, batch_size=GLOBAL_BATCH, epochs=1, shuffle=False, verbose=0).history["loss"]
        name = (
            f"DataParallel over {len(keras.distribution.list_devices('cpu'))} devices" if distribution else "one device"
        )
        print(f"{name}: loss {losses[-1]:.6f}")
        weights.append(model.get_weights())
    keras.distribution.set_distribution(None)
    difference = max(float(np.abs(a - b).max()) for a, b in zip(*weights))
    print(f"largest weight difference from one device: {difference:.2e}")
    return difference


def jax_process(index, processes, port, steps, out):
    """One of several JAX processes (`keras.distribution.initialize`, CPU
    collectives over gloo): DataParallel over every process's devices, each
    process feeding its share of every global batch."""
    import jax
    import numpy as np

    jax.config.update("jax_cpu_collectives_implementation", "gloo")
    from tensorflow_lnrnn.utils.compat import keras

    keras.distribution.initialize(f"127.0.0.1:{port}", num_processes=processes, process_id=index)
    distribution = keras.distribution.DataParallel(devices=jax.devices())
    distribution.auto_shard_dataset = False  # each process passes its own share
    keras.distribution.set_distribution(distribution)
    x, y = data(steps)
    share = GLOBAL_BATCH // processes
    x = x.reshape(steps, processes, share, *x.shape[1:])[:, index].reshape(-1, *x.shape[1:])
    y = y.reshape(steps, processes, share, *y.shape[1:])[:, index].reshape(-1, *y.shape[1:])
    model = build_model()
    model.compile(optimizer=keras.optimizers.SGD(LEARNING_RATE), loss="mse")
    losses = model.fit(x, y, batch_size=share, epochs=1, shuffle=False, verbose=0).history["loss"]
    print(f"JAX process {index} of {jax.process_count()}: loss {losses[-1]:.6f}", flush=True)
    np.savez(os.path.join(out, f"jax-weights-{index}.npz"), *model.get_weights())


def jax_processes(steps, processes=2):
    """Keras 3 on JAX across `processes` processes on 127.0.0.1, against one
    device. Returns (largest difference between processes, from one device)."""
    import numpy as np

    out = tempfile.mkdtemp(prefix="jax_processes-")
    env = {**os.environ, "KERAS_BACKEND": "jax", "JAX_PLATFORMS": "cpu"}
    (port,) = free_ports(1)
    command = [sys.executable, os.path.abspath(__file__), "--steps", str(steps), "--out", out, "--port", str(port),
               "--num-processes", str(processes)]  # fmt: skip
    children = [subprocess.Popen([*command, "--jax-process", str(i)], env=env) for i in range(processes)]
    try:
        codes = [child.wait(timeout=300) for child in children]
    finally:
        for child in children:
            if child.poll() is None:
                child.kill()
                child.wait()
    assert codes == [0] * processes, f"JAX process exit codes: {codes}"
    reference = subprocess.run(
        [*command, "--jax-data-parallel-reference"], env=env, capture_output=True, text=True, timeout=300
    )
    assert reference.returncode == 0, reference.stderr[-3000:]
    weights = [list(np.load(os.path.join(out, f"jax-weights-{i}.npz")).values()) for i in range(processes)]
    one_device = list(np.load(os.path.join(out, "jax-weights-one-device.npz")).values())
    between = max(float(np.abs(a - b).max()) for w in weights[1:] for a, b in zip(weights[0], w))
    from_one = max(float(np.abs(a - b).max()) for a, b in zip(weights[0], one_device))
    print(
        f"{processes} JAX processes: largest weight difference between them {between:.2e}, from one device {from_one:.2e}"
    )
    return between, from_one


def jax_one_device(steps, out):
    import numpy as np

    from tensorflow_lnrnn.utils.compat import keras

    x, y = data(steps)
    model = build_model()
    model.compile(optimizer=keras.optimizers.SGD(LEARNING_RATE), loss="mse")
    model.fit(x, y, batch_size=GLOBAL_BATCH, epochs=1, shuffle=False, verbose=0)
    np.savez(os.path.join(out, "jax-weights-one-device.npz"), *model.get_weights())


def free_ports(count):
    sockets = [socket.socket() for _ in range(count)]
    for s in sockets:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in sockets]
    for s in sockets:
        s.close()
    return ports


def run_workers(workers, steps, epochs, out, kill_after_step=0, timeout=300):
    """Starts the workers and waits for them; kills them all on any failure or time-out."""
    addresses = [f"127.0.0.1:{port}" for port in free_ports(workers)]
    processes = []
    try:
        for index in range(workers):
            config = {"cluster": {"worker": addresses}, "task": {"type": "worker", "index": index}}
            env = {**os.environ, "TF_CONFIG": json.dumps(config), "CUDA_VISIBLE_DEVICES": ""}
            command = [sys.executable, os.path.abspath(__file__), "--worker", str(index), "--steps", str(steps),
                       "--epochs", str(epochs), "--out", out, "--kill-after-step", str(kill_after_step)]  # fmt: skip
            processes.append(subprocess.Popen(command, env=env))
        deadline = time.monotonic() + timeout
        for process in processes:
            process.wait(timeout=max(1.0, deadline - time.monotonic()))
        return [process.returncode for process in processes]
    finally:
        for process in processes:
            if process.poll() is None:
                process.kill()
                process.wait()


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--steps", type=int, default=6, help="global batches per epoch")
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--kill-after-step", type=int, default=0, help="kill every worker after this step, then resume")
    parser.add_argument("--out", help="a folder for the results (default: a temporary one)")
    parser.add_argument("--jax-data-parallel", action="store_true", help="Keras 3's JAX DataParallel instead")
    parser.add_argument("--jax-processes", type=int, help="Keras 3 on JAX across this many processes instead")
    parser.add_argument("--worker", type=int, help=argparse.SUPPRESS)  # internal: run one worker
    parser.add_argument("--jax-process", type=int, help=argparse.SUPPRESS)  # internal: one JAX process
    parser.add_argument("--jax-data-parallel-reference", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--num-processes", type=int, default=2, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.jax_data_parallel:
        return jax_data_parallel(args.steps)
    if args.jax_processes:
        return jax_processes(args.steps, args.jax_processes)
    if args.jax_process is not None:
        return jax_process(args.jax_process, args.num_processes, args.port, args.steps, args.out)
    if args.jax_data_parallel_reference:
        return jax_one_device(args.steps, args.out)
    if args.worker is not None:
        worker(args.worker, args.steps, args.epochs, args.out, args.kill_after_step)
        return None

    import numpy as np

    from tensorflow_lnrnn.utils.compat import IS_KERAS_3

    if args.kill_after_step and not IS_KERAS_3 and args.kill_after_step % args.steps:
        parser.error("with Keras 2's fit, --kill-after-step must end an epoch (a multiple of --steps)")
    out = args.out or tempfile.mkdtemp(prefix="multi_worker-")
    codes = run_workers(args.workers, args.steps, args.epochs, out, args.kill_after_step)
    if args.kill_after_step:
        assert all(code == -signal.SIGKILL for code in codes), f"workers should have been killed: {codes}"
        print(f"killed every worker after step {args.kill_after_step}; restarting from the checkpoint", flush=True)
        codes = run_workers(args.workers, args.steps, args.epochs, out)
    assert codes == [0] * args.workers, f"worker exit codes: {codes}"
    weights = [list(np.load(os.path.join(out, f"weights-{i}.npz")).values()) for i in range(args.workers)]
    reference = train_one_process(args.steps, args.epochs)
    difference_between_workers = max(float(np.abs(a - b).max()) for w in weights[1:] for a, b in zip(weights[0], w))
    difference_from_one_process = max(float(np.abs(a - b).max()) for a, b in zip(weights[0], reference))
    for index in range(args.workers):
        with open(os.path.join(out, f"losses-{index}.json")) as f:
            print(f"worker {index} losses: {', '.join(f'{loss:.5f}' for loss in json.load(f))}")
    print(f"largest weight difference between workers: {difference_between_workers:.2e}")
    print(f"largest weight difference from one process: {difference_from_one_process:.2e}")
    return difference_between_workers, difference_from_one_process


if __name__ == "__main__":
    main()
