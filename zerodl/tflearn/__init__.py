"""A tflearn facade: tflearn scripts run after changing ``import tflearn`` to
``import zerodl.tflearn as tflearn`` (and ``from tflearn.layers.core import ...`` to
``from zerodl.tflearn.layers.core import ...``). The network is a ``zerodl.keras`` functional
model built by tflearn's layer functions, with tflearn's defaults (see ``layers``, ``models``,
``optimizers``)."""
from ..keras import clear_session
from . import data_utils, datasets, initializations, layers, metrics, models, optimizers  # noqa: F401
from .data_utils import to_categorical  # noqa: F401
from .layers import *  # noqa: F401,F403
from .metrics import Accuracy, Top_k  # noqa: F401
from .models import DNN  # noqa: F401
from .optimizers import SGD, AdaGrad, Adam, Momentum, RMSProp  # noqa: F401


def reset_default_graph():
    """tflearn/TF1 scripts call ``tf.reset_default_graph()`` between models; zerodl has no
    global graph, so there is nothing to reset (the layer-name counters start again)."""
    clear_session()


init_graph = reset_default_graph
