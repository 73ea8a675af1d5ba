"""Save ordinary Keras 2 recurrent models (no Addons) in every Keras 2 format.

Run on TensorFlow 2.15.1 (Keras 2.15), from the repository root:

    python -m venv /tmp/tf215 && /tmp/tf215/bin/pip install tensorflow-cpu==2.15.1 h5py
    /tmp/tf215/bin/python scripts/make_keras2_rnn_models.py

For each model below it writes, under ``tests/fixtures/keras2_rnn/<name>/``:
``model.h5``, ``model.keras``, ``saved_model/`` (Keras 2's TF SavedModel),
``inputs.npy`` and ``expected.npz`` (the predictions on TF 2.15, in output
order). ``tests/keras2_models_test.py`` opens each on Keras 3 with
`tensorflow_lnrnn.migrate` and compares.

The matrix is what a Keras 2 user has on disk: every recurrent layer and cell,
every Bidirectional merge mode, TimeDistributed, ConvLSTM1D/2D (whose Keras 2
default `recurrent_activation` is `hard_sigmoid`, redefined in Keras 3),
stateful models declared with `batch_input_shape`, `input_shape=` on a
Sequential's first layer, Embedding(mask_zero) and Masking, `return_state`
with several outputs, non-default activations, regularizers and constraints,
and a compiled model with its optimizer state.
"""

import os
import shutil
import warnings

import numpy as np
import tensorflow as tf

warnings.simplefilter("ignore")
keras = tf.keras
layers = keras.layers
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "fixtures", "keras2_rnn")
BATCH, TIME, DIM = 4, 5, 3


def sequence_inputs(rng, shape=(BATCH, TIME, DIM)):
    return rng.normal(size=shape).astype("float32")


def lstm_sequential_input_shape(rng):
    """The most common Keras 2 style: `input_shape=` on the first layer."""
    model = keras.Sequential(
        [
            layers.LSTM(4, input_shape=(TIME, DIM), return_sequences=True),
            layers.LSTM(3, activation="relu", recurrent_activation="hard_sigmoid"),
            layers.Dense(2, activation="hard_sigmoid"),
        ]
    )
    return model, sequence_inputs(rng)


def gru_both_reset_after(rng):
    inputs = keras.Input((TIME, DIM))
    after = layers.GRU(4, return_sequences=True)(inputs)
    before = layers.GRU(3, reset_after=False, go_backwards=True)(after)
    return keras.Model(inputs, before), sequence_inputs(rng)


def simple_rnn_options(rng):
    inputs = keras.Input((TIME, DIM))
    x = layers.SimpleRNN(4, activation="selu", use_bias=False, return_sequences=True, unroll=True)(inputs)
    x = layers.SimpleRNN(3, activation="softsign", dropout=0.2, recurrent_dropout=0.2)(x)
    return keras.Model(inputs, x), sequence_inputs(rng)


def rnn_over_keras_cells(rng):
    """`RNN` over each Keras cell, and over `StackedRNNCells`."""
    inputs = keras.Input((TIME, DIM))
    a = layers.RNN(layers.LSTMCell(3, recurrent_activation="hard_sigmoid"), return_sequences=True)(inputs)
    b = layers.RNN(layers.StackedRNNCells([layers.GRUCell(4), layers.SimpleRNNCell(2)]))(a)
    return keras.Model(inputs, b), sequence_inputs(rng)


def bidirectional_merge_modes(rng):
    inputs = keras.Input((TIME, DIM))
    outputs = []
    for mode in ("concat", "sum", "mul", "ave"):
        outputs.append(layers.Bidirectional(layers.LSTM(3), merge_mode=mode, name=f"bi_{mode}")(inputs))
    forward, backward = layers.Bidirectional(layers.GRU(2), merge_mode=None, name="bi_none")(inputs)
    return keras.Model(inputs, outputs + [forward, backward]), sequence_inputs(rng)


def time_distributed(rng):
    model = keras.Sequential(
        [
            layers.InputLayer(input_shape=(TIME, DIM)),
            layers.SimpleRNN(4, return_sequences=True),
            layers.TimeDistributed(layers.Dense(2, activation="tanh")),
        ]
    )
    return model, sequence_inputs(rng)


def conv_lstm_1d_2d(rng):
    """Keras 2's ConvLSTM default recurrent_activation is hard_sigmoid."""
    frames_1d = keras.Input((TIME, 6, 2), name="frames_1d")
    frames_2d = keras.Input((TIME, 4, 4, 1), name="frames_2d")
    a = layers.ConvLSTM1D(2, 3, padding="same")(frames_1d)
    b = layers.ConvLSTM2D(2, (2, 2), return_sequences=True)(frames_2d)
    b = layers.ConvLSTM2D(1, (2, 2))(b)
    model = keras.Model([frames_1d, frames_2d], [layers.Flatten()(a), layers.Flatten()(b)])
    inputs = [sequence_inputs(rng, (BATCH, TIME, 6, 2)), sequence_inputs(rng, (BATCH, TIME, 4, 4, 1))]
    return model, inputs


def stateful_batch_input_shape(rng):
    """How stateful models were written in Keras 2."""
    model = keras.Sequential(
        [
            layers.LSTM(4, stateful=True, return_sequences=True, batch_input_shape=(BATCH, TIME, DIM)),
            layers.GRU(3, stateful=True),
            layers.Dense(1),
        ]
    )
    return model, sequence_inputs(rng)


def text_model_with_states(rng):
    """Embedding(mask_zero) -> LSTM(return_sequences, return_state): several outputs."""
    tokens = keras.Input((TIME,), dtype="int32", name="tokens")
    x = layers.Embedding(20, 4, mask_zero=True)(tokens)
    sequences, h, c = layers.LSTM(3, return_sequences=True, return_state=True)(x)
    pooled = layers.GlobalAveragePooling1D()(sequences)
    model = keras.Model(tokens, [sequences, h, c, pooled])
    ids = rng.integers(1, 20, size=(BATCH, TIME)).astype("int32")
    ids[0, -2:] = 0  # padding
    ids[1, -1:] = 0
    return model, ids


def masking_layer(rng):
    model = keras.Sequential([layers.Masking(0.0, input_shape=(TIME, DIM)), layers.GRU(3), layers.Dense(1)])
    inputs = sequence_inputs(rng)
    inputs[0, -2:] = 0.0
    return model, inputs


def regularizers_and_constraints(rng):
    inputs = keras.Input((TIME, DIM))
    x = layers.LSTM(
        3,
        kernel_regularizer=keras.regularizers.l2(1e-3),
        recurrent_regularizer=keras.regularizers.l1_l2(1e-4, 1e-4),
        bias_regularizer="l1",
        activity_regularizer="l2",
        kernel_constraint=keras.constraints.MaxNorm(2.0),
        recurrent_constraint="unit_norm",
        bias_constraint=keras.constraints.NonNeg(),
        unit_forget_bias=False,
    )(inputs)
    return keras.Model(inputs, x), sequence_inputs(rng)


def compiled_with_optimizer(rng):
    """Trained a few steps: the file holds the optimizer's state too."""
    model = keras.Sequential([layers.GRU(3, input_shape=(TIME, DIM)), layers.Dense(1)])
    model.compile(optimizer=keras.optimizers.Adam(1e-2), loss="mse", metrics=["mae"])
    x = sequence_inputs(rng, (16, TIME, DIM))
    model.fit(x, rng.normal(size=(16, 1)), epochs=2, verbose=0)
    return model, sequence_inputs(rng)


MODELS = [
    lstm_sequential_input_shape,
    gru_both_reset_after,
    simple_rnn_options,
    rnn_over_keras_cells,
    bidirectional_merge_modes,
    time_distributed,
    conv_lstm_1d_2d,
    stateful_batch_input_shape,
    text_model_with_states,
    masking_layer,
    regularizers_and_constraints,
    compiled_with_optimizer,
]


def randomize(model, rng):
    """Random weights everywhere (biases and gains too), so that every weight matters."""
    model.set_weights([rng.normal(scale=0.5, size=w.shape).astype(w.dtype.as_numpy_dtype) for w in model.weights])


def save(builder, rng):
    name = builder.__name__
    folder = os.path.join(OUT, name)
    shutil.rmtree(folder, ignore_errors=True)
    os.makedirs(folder)
    keras.backend.clear_session()
    tf.keras.utils.set_random_seed(len(name))
    model, inputs = builder(rng)
    if name != "compiled_with_optimizer":  # keep the trained weights there
        randomize(model, rng)
    if model.stateful:
        model.reset_states()
    outputs = model.predict(inputs, batch_size=BATCH, verbose=0)
    outputs = outputs if isinstance(outputs, list) else [outputs]
    if isinstance(inputs, list):
        np.savez(os.path.join(folder, "inputs.npz"), *inputs)
    else:
        np.save(os.path.join(folder, "inputs.npy"), inputs)
    np.savez(os.path.join(folder, "expected.npz"), *outputs)
    for path, kwargs in (("model.h5", {}), ("model.keras", {}), ("saved_model", {"save_format": "tf"})):
        if model.stateful:
            model.reset_states()
        model.save(os.path.join(folder, path), **kwargs)
    print(f"wrote {name}: {len(outputs)} output(s), {len(model.weights)} weights")


def main():
    rng = np.random.default_rng(2015)
    for builder in MODELS:
        save(builder, rng)


if __name__ == "__main__":
    main()
