"""Single-head spatial self-attention, the attention block of latent-diffusion style U-Nets, shared by
the models that use one (VSCC's codec, DiSC-Med's DDPM U-Net)."""
import math

import keras
import tensorflow as tf

__all__ = ["AttentionBlock"]


@keras.saving.register_keras_serializable(package="linksim")
class AttentionBlock(keras.layers.Layer):
    """Single-head self-attention over the H·W positions, residual: ``x + proj(softmax(QKᵀ/√C)·V)``,
    after a group normalisation of ``groups`` groups (default ``gcd(32, C)``).

    Input and output ``[batch, H, W, C]`` float32.
    """

    def __init__(self, groups: int | None = None, **kwargs):
        super().__init__(**kwargs)
        self.groups = groups

    def build(self, input_shape):
        c = input_shape[-1]
        self.norm = keras.layers.GroupNormalization(groups=self.groups or math.gcd(32, c), epsilon=1e-6)
        self.q, self.k, self.v, self.proj = (keras.layers.Conv2D(c, 1) for _ in range(4))
        for layer in (self.norm, self.q, self.k, self.v, self.proj):
            layer.build(input_shape)

    def compute_output_shape(self, input_shape):
        return input_shape

    def call(self, x):
        shape = tf.shape(x)
        c = x.shape[-1]
        h = self.norm(x)
        q, k, v = (tf.reshape(f(h), [shape[0], -1, c]) for f in (self.q, self.k, self.v))  # [batch, H·W, C]
        weights = tf.nn.softmax(tf.matmul(q, k, transpose_b=True) / math.sqrt(c), axis=-1)  # [batch, H·W, H·W]
        attended = tf.reshape(tf.matmul(weights, v), shape)  # [batch, H, W, C]
        return x + self.proj(attended)

    def get_config(self):
        return {**super().get_config(), "groups": self.groups}
