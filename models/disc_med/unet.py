"""The slice U-Net of DiSC-Med, conditioned through FiLM on an embedding vector.

One architecture serves both learned receivers: the channel-aware denoiser (input: the target
slice of the interpolated semantic volume and its two neighbours, 3 channels; condition: the
embedded SNR or BER) and the DDPM's ε-network (input: x_t concatenated with the segmentation and
edge condition; condition: the embedded timestep) and the downstream slice segmenter (a constant
condition). ``levels`` resolutions (the paper's backbones have five; two or three at CPU scale),
each block two 3×3 convolutions with group normalisation and SiLU, FiLM after the first; average
pooling down, nearest upsampling up, skip connections by concatenation; a final 1×1 convolution.
``attention_levels`` adds a self-attention block (:class:`linksim.models.attention.AttentionBlock`)
after the blocks of that many of the lowest resolutions, the bottleneck first (the paper's DDPM
backbone has attention "at the lowest-resolution stages, including the bottleneck layer").
"""
import keras
import tensorflow as tf

from linksim.models.attention import AttentionBlock
from linksim.models.checks import check_positive_ints
from linksim.models.disc_med.film import FiLM

__all__ = ["ConditionalUNet"]


class _Block(keras.layers.Layer):
    """conv → norm → SiLU → FiLM → conv → norm → SiLU."""

    def __init__(self, filters: int, **kwargs):
        super().__init__(**kwargs)
        self.conv1 = keras.layers.Conv2D(filters, 3, padding="same")
        self.conv2 = keras.layers.Conv2D(filters, 3, padding="same")
        self.norm1 = keras.layers.GroupNormalization(groups=min(4, filters))
        self.norm2 = keras.layers.GroupNormalization(groups=min(4, filters))
        self.film = FiLM()

    def call(self, x, embedding):
        x = tf.nn.silu(self.norm1(self.conv1(x)))
        x = self.film(x, embedding)
        return tf.nn.silu(self.norm2(self.conv2(x)))


@keras.saving.register_keras_serializable(package="linksim")
class ConditionalUNet(keras.layers.Layer):
    """U-Net with FiLM conditioning.

    Parameters
    ----------
    filters : int
        Width of the first level; level l has ``filters · 2^l``.
    out_channels : int
    levels : int
        Resolutions, ≥ 2 (H and W must be multiples of 2^(levels − 1)).
    attention_levels : int
        Resolutions, from the bottleneck up, whose blocks are followed by self-attention (0: none).

    Input
    -----
    x : [batch, H, W, C_in] float32
    embedding : [batch, E] float32

    Output
    ------
    : [batch, H, W, out_channels] float32
    """

    def __init__(self, filters: int = 16, out_channels: int = 1, levels: int = 2, attention_levels: int = 0, **kwargs):
        super().__init__(**kwargs)
        check_positive_ints(filters=filters, out_channels=out_channels, levels=levels)
        if levels < 2:
            raise ValueError(f"levels must be at least 2, got {levels}")
        if not 0 <= attention_levels <= levels:
            raise ValueError(f"attention_levels must be in 0 … levels = {levels}, got {attention_levels}")
        self.filters, self.out_channels, self.levels = int(filters), int(out_channels), int(levels)
        self.attention_levels = int(attention_levels)
        self.down = [_Block(self.filters * 2**level) for level in range(self.levels - 1)]
        self.middle = _Block(self.filters * 2 ** (self.levels - 1))
        self.up = [_Block(self.filters * 2**level) for level in reversed(range(self.levels - 1))]
        attended = range(self.levels - self.attention_levels, self.levels - 1)  # levels above the bottleneck with attention
        self.down_attention = {f"level{level}": AttentionBlock(groups=min(4, self.filters * 2**level)) for level in attended}
        self.up_attention = {f"level{level}": AttentionBlock(groups=min(4, self.filters * 2**level)) for level in attended}
        self.middle_attention = AttentionBlock(groups=4) if self.attention_levels else None
        self.pool = keras.layers.AveragePooling2D(2)
        self.upsample = keras.layers.UpSampling2D(2)
        self.head = keras.layers.Conv2D(self.out_channels, 1)

    def call(self, x, embedding):
        skips = []
        for level, block in enumerate(self.down):
            x = block(x, embedding)  # [batch, H/2^l, W/2^l, f·2^l]
            if f"level{level}" in self.down_attention:
                x = self.down_attention[f"level{level}"](x)
            skips.append(x)
            x = self.pool(x)
        x = self.middle(x, embedding)
        if self.middle_attention is not None:
            x = self.middle_attention(x)
        for level, block, skip in zip(reversed(range(self.levels - 1)), self.up, reversed(skips)):
            x = block(tf.concat([self.upsample(x), skip], -1), embedding)
            if f"level{level}" in self.up_attention:
                x = self.up_attention[f"level{level}"](x)
        return self.head(x)

    def get_config(self):
        return {**super().get_config(), "filters": self.filters, "out_channels": self.out_channels, "levels": self.levels,
                "attention_levels": self.attention_levels}
