"""xrnn: recurrent networks with hand-written forward and backward passes on the array API.

The functions take and return arrays of any array API library (NumPy, CuPy, PyTorch, ...),
on the caller's device and in the caller's floating dtype.
"""

from .activations import sigmoid, softmax
from .gradcheck import gradcheck, numerical_gradient
from .gru import gru_backward, gru_cell_backward, gru_cell_forward, gru_forward
from .layers import (
    gru_layers,
    gru_layers_backward,
    lstm_layers,
    lstm_layers_backward,
    rnn_layers,
    rnn_layers_backward,
)
from .lstm import lstm_backward, lstm_cell_backward, lstm_cell_forward, lstm_forward
from .rnn import rnn_backward, rnn_cell_backward, rnn_cell_forward, rnn_forward

__version__ = "0.1.0"

__all__ = [
    "gradcheck",
    "gru_backward",
    "gru_cell_backward",
    "gru_cell_forward",
    "gru_forward",
    "gru_layers",
    "gru_layers_backward",
    "lstm_backward",
    "lstm_cell_backward",
    "lstm_cell_forward",
    "lstm_forward",
    "lstm_layers",
    "lstm_layers_backward",
    "numerical_gradient",
    "rnn_backward",
    "rnn_cell_backward",
    "rnn_cell_forward",
    "rnn_forward",
    "rnn_layers",
    "rnn_layers_backward",
    "sigmoid",
    "softmax",
]
