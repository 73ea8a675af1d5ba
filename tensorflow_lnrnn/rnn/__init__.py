"""Layer-normalized recurrent cells and whole-sequence layers."""

from tensorflow_lnrnn.rnn.layer_norm_gru_cell import LayerNormGRU, LayerNormGRUCell
from tensorflow_lnrnn.rnn.layer_norm_lstm_cell import LayerNormLSTM, LayerNormLSTMCell
from tensorflow_lnrnn.rnn.layer_norm_simple_rnn_cell import LayerNormSimpleRNN, LayerNormSimpleRNNCell

__all__ = [
    "LayerNormGRU",
    "LayerNormGRUCell",
    "LayerNormLSTM",
    "LayerNormLSTMCell",
    "LayerNormSimpleRNN",
    "LayerNormSimpleRNNCell",
]
