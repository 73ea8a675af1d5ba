"""Layer-normalized recurrent cells and layers."""

from tensorflow_lnrnn.rnn.layer_norm_lstm_cell import LayerNormLSTMCell

__all__ = ["LayerNormLSTMCell"]
