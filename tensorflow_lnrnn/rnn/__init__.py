"""Layer-normalized recurrent cells and layers."""

from tensorflow_lnrnn.rnn.layer_norm_gru_cell import LayerNormGRUCell
from tensorflow_lnrnn.rnn.layer_norm_lstm_cell import LayerNormLSTMCell
from tensorflow_lnrnn.rnn.layer_norm_simple_rnn_cell import LayerNormSimpleRNNCell

__all__ = ["LayerNormGRUCell", "LayerNormLSTMCell", "LayerNormSimpleRNNCell"]
