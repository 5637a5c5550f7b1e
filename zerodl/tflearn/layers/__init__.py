"""tflearn.layers: the layer functions, in tflearn's modules (``tflearn.layers.core``,
``.conv``, ``.recurrent``, ``.normalization``, ``.embedding_ops``, ``.estimator``)."""
from .conv import *  # noqa: F401,F403
from .core import *  # noqa: F401,F403
from .embedding_ops import *  # noqa: F401,F403
from .estimator import regression  # noqa: F401
from .normalization import *  # noqa: F401,F403
from .recurrent import *  # noqa: F401,F403
