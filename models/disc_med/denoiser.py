"""DiSC-Med's channel-aware semantic denoiser (the paper's Denoising Module, Fig. 2).

Each slice of the interpolated semantic volume is restored from itself and its two neighbours (the
paper's 3-slice input; with the label and edge channels, 6 input channels; with one-hot classes,
3(C + 1)) by a U-Net whose blocks
are modulated by FiLM from a learned embedding of the channel state (SNR in dB / 10, or log10 of the
BER). It outputs the class logits and the edge logit of the slice; the link passes on their
probabilities as the reconstruction's condition.
"""
import keras
import tensorflow as tf

from linksim.models.checks import check_positive_ints
from linksim.models.disc_med.film import ChannelEmbedding
from linksim.models.disc_med.slices import coordinates, from_slices, to_slices, with_neighbours
from linksim.models.disc_med.unet import ConditionalUNet

__all__ = ["SemanticDenoiser"]


@keras.saving.register_keras_serializable(package="linksim")
class SemanticDenoiser(keras.layers.Layer):
    """Channel-aware denoiser of interpolated semantic volumes.

    Parameters
    ----------
    num_classes : int
        C, the segmentation classes (background included).
    filters, levels : int
        Of the U-Net.
    embedding : int
        Width of the channel-state embedding.

    Input
    -----
    semantics : [batch, D, H, W, K] float32 — (label / (C − 1), edge) with K = 2, or (one-hot classes,
        edge) with K = C + 1; noisy and interpolated
    state : [batch] float32 — the channel state (SNR dB / 10 or log10 BER)

    Output
    ------
    : [batch, D, H, W, C + 1] float32 — logits of the C classes, then of the edge
    """

    def __init__(self, num_classes: int, filters: int = 16, levels: int = 2, embedding: int = 32, **kwargs):
        super().__init__(**kwargs)
        check_positive_ints(num_classes=num_classes, filters=filters, levels=levels, embedding=embedding)
        self.num_classes, self.filters, self.levels, self.embedding_units = int(num_classes), int(filters), int(levels), int(embedding)
        self.state_embedding = ChannelEmbedding(self.embedding_units)
        self.unet = ConditionalUNet(self.filters, self.num_classes + 1, self.levels)

    def call(self, semantics, state):
        depth = semantics.shape[1]
        slices = to_slices(with_neighbours(semantics))  # [batch·D, H, W, 3K]
        count, height, width = tf.shape(slices)[0], slices.shape[1], slices.shape[2]
        per_slice = tf.repeat(tf.reshape(tf.cast(state, tf.float32), [-1]), depth)  # [batch·D]
        inputs = tf.concat([slices, coordinates(count, height, width)], -1)
        return from_slices(self.unet(inputs, self.state_embedding(per_slice)), depth)

    @staticmethod
    def probabilities(logits):
        """Logits [.., C + 1] → class probabilities (softmax) and edge probability (sigmoid)."""
        return tf.concat([tf.nn.softmax(logits[..., :-1]), tf.sigmoid(logits[..., -1:])], -1)

    def get_config(self):
        return {**super().get_config(), "num_classes": self.num_classes, "filters": self.filters, "levels": self.levels,
                "embedding": self.embedding_units}
