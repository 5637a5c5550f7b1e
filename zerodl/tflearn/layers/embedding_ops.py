"""tflearn.layers.embedding_ops: embedding (weights truncated_normal(stddev 0.02))."""
from ...keras import layers
from .. import initializations

__all__ = ["embedding"]


def embedding(incoming, input_dim, output_dim, validate_indices=False, weights_init="truncated_normal",
              trainable=True, restore=True, reuse=False, scope=None, name="Embedding"):
    init = initializations.get(weights_init, "truncated_normal")
    return layers.Embedding(input_dim, output_dim, embeddings_initializer=init)(incoming)


