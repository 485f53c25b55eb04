"""Conditioning of DiSC-Med's U-Nets: learned embeddings of a scalar condition and FiLM modulation
x·(1 + γ) + β of a feature map.

Two embeddings share one network (two dense layers): the channel state (SNR or BER) of the
denoiser, which the paper encodes "into a learnable embedding vector" expanded to each feature map,
and the diffusion timestep of the DDPM (sinusoidal features first, as DDPM). FiLM is how the
conditional U-Net applies them (the common choice). γ and β come from a zero-initialised
projection, so every FiLM block starts as the identity and training moves away from the
unconditioned network only as far as the data asks.
"""
import math

import keras
import tensorflow as tf

from linksim.models.checks import check_positive_ints

__all__ = ["ChannelEmbedding", "TimestepEmbedding", "FiLM"]


class _EmbeddingMLP(keras.layers.Layer):
    """Features of a conditioning value (``features``, [batch, feature_size]) → two dense layers
    (SiLU, then linear) → [batch, units]: the embedding network of every FiLM condition."""

    def __init__(self, units: int = 32, **kwargs):
        super().__init__(**kwargs)
        check_positive_ints(units=units)
        self.units = int(units)
        self.hidden = keras.layers.Dense(self.units, activation="silu")
        self.out = keras.layers.Dense(self.units)

    feature_size = None  # columns of what ``features(value)``, defined by each embedding, returns; None: ``units``

    def build(self, input_shape):
        self.hidden.build((None, self.feature_size or self.units))
        self.out.build((None, self.units))

    def call(self, value):
        return self.out(self.hidden(self.features(value)))

    def get_config(self):
        return {**super().get_config(), "units": self.units}


@keras.saving.register_keras_serializable(package="linksim")
class ChannelEmbedding(_EmbeddingMLP):
    """A scalar channel state (SNR in dB, or log10 of a BER) → a learned embedding vector.

    Input
    -----
    state : [batch] or [batch, 1] float32

    Output
    ------
    : [batch, units] float32
    """

    feature_size = 1

    def features(self, state):
        return tf.reshape(tf.cast(state, tf.float32), [-1, 1])  # [batch, 1]


@keras.saving.register_keras_serializable(package="linksim")
class TimestepEmbedding(_EmbeddingMLP):
    """Diffusion timestep t → sinusoidal features (DDPM's) → the embedding MLP.

    Input
    -----
    t : [batch] int32

    Output
    ------
    : [batch, units] float32
    """

    def features(self, t):
        half = self.units // 2
        frequencies = tf.exp(-math.log(10_000.0) * tf.range(half, dtype=tf.float32) / max(half - 1, 1))
        angles = tf.cast(tf.reshape(t, [-1, 1]), tf.float32) * frequencies[None, :]      # [batch, half]
        features = tf.concat([tf.sin(angles), tf.cos(angles)], axis=-1)                  # [batch, 2·half]
        return tf.pad(features, [[0, 0], [0, self.units - 2 * half]])                     # [batch, units]


@keras.saving.register_keras_serializable(package="linksim")
class FiLM(keras.layers.Layer):
    """x·(1 + γ(e)) + β(e) per channel, from an embedding e; the identity at initialisation.

    Input
    -----
    features : [batch, H, W, C] float32
    embedding : [batch, E] float32

    Output
    ------
    : [batch, H, W, C] float32
    """

    def build(self, features_shape, embedding_shape=None):
        channels = int(features_shape[-1])
        self.project = keras.layers.Dense(2 * channels, kernel_initializer="zeros", bias_initializer="zeros")
        self.project.build((None, int(embedding_shape[-1]) if embedding_shape else None))

    def call(self, features, embedding):
        gamma, beta = tf.split(self.project(embedding), 2, axis=-1)  # [batch, C] each
        return features * (1.0 + gamma[:, None, None, :]) + beta[:, None, None, :]
