"""Catalogue of the classical source-coding stages: the separate-coding baseline of image links.

``image_encoder`` codes each image of an ``images`` source at the largest JPEG quality that fits
its bit budget; ``image_decoder`` turns received bits back into images, with the dataset-mean
image wherever the failure rule of :mod:`linksim.domains.imaging.jpeg` applies. Between them a scenario puts
any channel code, mapper and channel, e.g. ``ldpc_encoder → mapper → awgn → demapper →
ldpc_decoder``.

The budget is what the channel carries in ``channel_uses`` symbols: channel uses × bits per symbol
(the curve's mapper) × the rates of the curve's encoder stages. Give the learned link's channel
uses per image, and both curves spend the same channel per image.
"""
from typing import ClassVar, Literal

from pydantic import Field

from linksim.catalogue.phy_stages import ChannelEncoderParams
from linksim.engine.registry import register
from linksim.engine.stage import StageParams, make_stage

__all__ = ["ImageEncoderParams", "ImageDecoderParams", "bit_budget"]

CODEC = Literal["jpeg"]


def bit_budget(curve, channel_uses: int) -> int:
    """Information bits per image that ``channel_uses`` symbols of ``curve`` carry.

    Walks back from the mapper through the encoder stages: each needs whole blocks (a multiple
    of n coded bits) and leaves k of every n. ``ValueError`` where that does not divide.
    """
    bits_per_symbol = curve.bits_per_symbol()
    if bits_per_symbol is None:
        raise ValueError("the bit budget needs a mapper stage in this curve (bits per channel use)")
    bits = channel_uses * bits_per_symbol
    for stage in reversed([s for s in curve.stages if isinstance(s, ChannelEncoderParams)]):
        if bits % stage.n:
            raise ValueError(f"{channel_uses} channel uses × {bits_per_symbol} bits = {bits} coded bits per image, not a "
                             f"multiple of the {stage.type}'s n = {stage.n}")
        bits = bits // stage.n * stage.k
    return bits


def _encoder_of(curve):
    return next((s for s in curve.stages if isinstance(s, ImageEncoderParams)), None)


@register("stage", "image_encoder")
class ImageEncoderParams(StageParams):
    """JPEG at the largest quality within the bits of channel_uses symbols: [batch, H, W, C] → [batch, budget] bits.

    ``codec``: ``jpeg`` (abbreviated format: tables known to both ends; :mod:`linksim.domains.imaging.jpeg`).
    ``max_quality``: where the search starts (1…95).
    """

    type: Literal["image_encoder"]
    codec: CODEC = "jpeg"
    channel_uses: int = Field(ge=1, le=10**8)
    max_quality: int = Field(default=95, ge=1, le=95)

    tap_default: ClassVar[str] = "codec_bits"
    xla_compatible: ClassVar[bool] = False

    def check(self, curve, data):
        from linksim.domains.imaging.jpeg import OVERHEAD_BITS

        if curve.stages[0] is not self or not curve.source.reads_dataset:
            raise ValueError("must be the first stage, after the 'images' source")
        shape = tuple(data.sample_shape)
        if len(shape) != 3 or shape[-1] not in (1, 3):
            raise ValueError(f"codes images [H, W, 1 or 3]; this dataset's samples are {list(shape)}")
        budget = bit_budget(curve, self.channel_uses)
        if budget % 8 or budget < OVERHEAD_BITS + 8:
            raise ValueError(f"the bit budget ({budget} bits per image) must be a multiple of 8 and at least "
                             f"{OVERHEAD_BITS + 8} (header and CRC take {OVERHEAD_BITS})")

    def build(self, context):
        import numpy as np
        import tensorflow as tf

        from linksim.domains.imaging.jpeg import JPEGBitstream

        codec = JPEGBitstream(context.sample_shape, bit_budget(context.curve, self.channel_uses), self.max_quality)

        def encode(images):
            return codec.encode(np.round(images * 255.0).astype(np.uint8))[0].astype(np.float32)

        def apply(images, ctx):
            bits = tf.numpy_function(encode, [images], tf.float32, stateful=False)
            return tf.ensure_shape(bits, [None, codec.num_bits])

        return make_stage(self, None, apply)


@register("stage", "image_decoder")
class ImageDecoderParams(StageParams):
    """Received bits (hard bits or LLRs) → images; the mean training image where the CRC fails or nothing decodes (its
    mean colour where the test samples are whole images of another size)."""

    type: Literal["image_decoder"]
    codec: CODEC = "jpeg"

    tap_default: ClassVar[str] = "reconstruction"
    xla_compatible: ClassVar[bool] = False

    def check(self, curve, data):
        encoder = _encoder_of(curve)
        if encoder is None or encoder.codec != self.codec:
            raise ValueError(f"needs an 'image_encoder' stage with codec {self.codec!r} earlier in the curve")

    def build(self, context):
        import numpy as np
        import tensorflow as tf

        from linksim.domains.imaging.jpeg import JPEGBitstream

        encoder = _encoder_of(context.curve)
        codec = JPEGBitstream(context.sample_shape, bit_budget(context.curve, encoder.channel_uses), encoder.max_quality)
        train = context.data.load("train", context.seed)
        mean_image = (train.mean(axis=0) / context.data.stored_max).astype(np.float32)
        if mean_image.shape != tuple(context.sample_shape):  # whole test images: the training crops' mean colour
            mean_image = np.broadcast_to(mean_image.mean(axis=(0, 1)), context.sample_shape).astype(np.float32)

        def decode(bits):
            return codec.decode(bits, mean_image)[0]

        def apply(received, ctx):
            hard = tf.cast(received > 0, tf.float32)  # bits or LLRs (positive: 1)
            images = tf.numpy_function(decode, [hard], tf.float32, stateful=False)
            return tf.ensure_shape(images, [None, *codec.image_shape])

        return make_stage(self, None, apply)
