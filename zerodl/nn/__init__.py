"""``zerodl.nn``: ``Module``, ``Parameter``, the layers and ``nn.init``.

Layers hold parameters and call ``zerodl.functions``. Naming and layout choices:

- ``Linear`` has ``W`` (in_features, out_features) and ``b`` (out_features,): ``y = x @ W + b``
  as in the book and Keras (PyTorch's ``weight`` is the transpose).
- ``Conv2d`` has ``W`` (C_out, C_in, KH, KW) and ``b`` (C_out,); ``ConvTranspose2d`` has
  ``W`` (C_in, C_out, KH, KW).
- ``BatchNorm1d/2d`` have parameters ``gamma``/``beta`` (the book's names) and buffers
  ``running_mean``/``running_var``.
- ``Embedding`` has ``W`` (num_embeddings, embedding_dim).
- Default initialisation: He normal for Linear and Conv weights, zero biases, N(0, 0.01)
  for embeddings (see ``zerodl.nn.init``).

PyTorch's functional API is ``zerodl.nn.functional``; its loss modules (``CrossEntropyLoss``,
``MSELoss``, ...) are in ``loss.py``.

Serialisation: ``nn.module_to_config(m)`` / ``nn.module_from_config(d)`` describe and rebuild
an architecture (JSON-able); ``state_dict`` / ``load_state_dict`` carry the weights;
``model.save(path)`` / ``nn.save_model`` and ``nn.load_model`` (also ``zd.load_model``) put
both in one safetensors file (``nn.model_file``).
"""
from . import functional, init
from .attention import MultiheadAttention
from .activation import GELU, Identity, LeakyReLU, LogSoftmax, ReLU, Sigmoid, Softmax, Tanh
from .container import ModuleList, Sequential
from .conv import Conv2d, ConvTranspose2d
from .dropout import Dropout
from .embedding import Embedding
from .linear import Flatten, Linear
from .loss import BCELoss, BCEWithLogitsLoss, CrossEntropyLoss, L1Loss, MSELoss, NLLLoss
from .model_file import load_model, read_model_metadata, save_model
from .module import Module, get_module_class, module_from_config, module_to_config
from .normalization import BatchNorm1d, BatchNorm2d, LayerNorm
from .parameter import Parameter
from .pooling import AvgPool2d, MaxPool2d
from .transformer import Seq2seqTransformer, TransformerDecoderLayer, TransformerEncoderLayer
from .positional import LearnedPositionalEncoding, SinusoidalPositionalEncoding, sinusoidal_encoding
from .recurrent import GRU, LSTM, RNN
from .upsample import Upsample

__all__ = [
    "init",
    "functional",
    "Parameter",
    "Module",
    "module_to_config",
    "module_from_config",
    "get_module_class",
    "save_model",
    "load_model",
    "read_model_metadata",
    "Sequential",
    "ModuleList",
    "Linear",
    "Flatten",
    "Conv2d",
    "ConvTranspose2d",
    "MaxPool2d",
    "AvgPool2d",
    "Upsample",
    "Dropout",
    "BatchNorm1d",
    "BatchNorm2d",
    "LayerNorm",
    "MultiheadAttention",
    "SinusoidalPositionalEncoding",
    "LearnedPositionalEncoding",
    "sinusoidal_encoding",
    "TransformerEncoderLayer",
    "TransformerDecoderLayer",
    "Seq2seqTransformer",
    "Embedding",
    "ReLU",
    "Sigmoid",
    "Tanh",
    "LeakyReLU",
    "GELU",
    "Softmax",
    "LogSoftmax",
    "Identity",
    "RNN",
    "LSTM",
    "GRU",
    "CrossEntropyLoss",
    "NLLLoss",
    "MSELoss",
    "L1Loss",
    "BCELoss",
    "BCEWithLogitsLoss",
]
