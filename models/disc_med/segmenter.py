"""A small 2D segmentation U-Net for CT slices.

It stands in for the pre-trained models the paper uses — TotalSegmentator at the transmitter and
a separate pre-trained segmentation model for the blind downstream test — whose weights cannot be
had here. It is trained on clean CT (HU window → [0, 1]) of the training patients and applied
slice by slice; pixel coordinates are extra inputs, so that left and right organs are told apart.
"""
import keras
import tensorflow as tf

from linksim.models.checks import check_positive_ints
from linksim.models.disc_med.slices import coordinates, from_slices, to_slices
from linksim.models.disc_med.unet import ConditionalUNet

__all__ = ["SliceSegmenter"]


@keras.saving.register_keras_serializable(package="linksim")
class SliceSegmenter(keras.layers.Layer):
    """Slice-wise segmentation of CT volumes.

    Input
    -----
    volumes : [batch, D, H, W, K] float32 — channel 0 is the CT in [0, 1] (others are ignored)

    Output
    ------
    ``call``: [batch, D, H, W] float32 — the most likely label of each voxel;
    ``logits``: [batch, D, H, W, C] float32
    """

    def __init__(self, num_classes: int, filters: int = 16, levels: int = 3, **kwargs):
        super().__init__(**kwargs)
        check_positive_ints(num_classes=num_classes, filters=filters, levels=levels)
        self.num_classes, self.filters, self.levels = int(num_classes), int(filters), int(levels)
        self.unet = ConditionalUNet(self.filters, self.num_classes, self.levels)

    def logits(self, volumes):
        depth = volumes.shape[1]
        slices = to_slices(volumes[..., :1])  # [batch·D, H, W, 1]
        count, height, width = tf.shape(slices)[0], slices.shape[1], slices.shape[2]
        inputs = tf.concat([slices, coordinates(count, height, width)], -1)
        return from_slices(self.unet(inputs, tf.zeros([count, 1])), depth)  # a constant condition: FiLM is a plain affine

    def call(self, volumes):
        return tf.cast(tf.argmax(self.logits(volumes), -1), tf.float32)

    def get_config(self):
        return {**super().get_config(), "num_classes": self.num_classes, "filters": self.filters, "levels": self.levels}
