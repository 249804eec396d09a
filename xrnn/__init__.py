"""xrnn: recurrent networks with hand-written forward and backward passes on the array API.

The functions take and return arrays of any array API library (NumPy, CuPy, PyTorch, ...),
on the caller's device and in the caller's floating dtype.
"""

from . import nn, optim
from .activations import sigmoid, softmax
from .convert import from_keras, from_torch, to_keras, to_torch
from .gradcheck import gradcheck, numerical_gradient
from .gru import gru_backward, gru_cell_backward, gru_cell_forward, gru_forward
from .init import init_parameters
from .layers import (
    gru_layers,
    gru_layers_backward,
    lstm_layers,
    lstm_layers_backward,
    rnn_layers,
    rnn_layers_backward,
)
from .loss import output_backward, output_forward, softmax_cross_entropy
from .lstm import lstm_backward, lstm_cell_backward, lstm_cell_forward, lstm_forward
from .peephole import (
    peephole_backward,
    peephole_forward,
    peephole_layers,
    peephole_layers_backward,
)
from .rnn import rnn_backward, rnn_cell_backward, rnn_cell_forward, rnn_forward

__version__ = "0.1.0"

__all__ = [
    "from_keras",
    "from_torch",
    "gradcheck",
    "gru_backward",
    "gru_cell_backward",
    "gru_cell_forward",
    "gru_forward",
    "gru_layers",
    "gru_layers_backward",
    "init_parameters",
    "lstm_backward",
    "lstm_cell_backward",
    "lstm_cell_forward",
    "lstm_forward",
    "lstm_layers",
    "lstm_layers_backward",
    "nn",
    "numerical_gradient",
    "optim",
    "output_backward",
    "output_forward",
    "peephole_backward",
    "peephole_forward",
    "peephole_layers",
    "peephole_layers_backward",
    "rnn_backward",
    "rnn_cell_backward",
    "rnn_cell_forward",
    "rnn_forward",
    "rnn_layers",
    "rnn_layers_backward",
    "sigmoid",
    "softmax",
    "softmax_cross_entropy",
    "to_keras",
    "to_torch",
]
