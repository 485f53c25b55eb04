"""Channel-state conditioning of DiSC-Med's denoiser: a learned embedding of the SNR (or BER) and
FiLM modulation x·(1 + γ) + β of a feature map.

The paper encodes the channel state "into a learnable embedding vector" and expands it to each
feature map; FiLM is how its conditional U-Net applies it (the issue's and the common choice).
γ and β come from a zero-initialised projection, so every FiLM block starts as the identity and
training moves away from the unconditioned network only as far as the data asks.
"""
import keras
import tensorflow as tf

from models.checks import check_positive_ints

__all__ = ["ChannelEmbedding", "FiLM"]


@keras.saving.register_keras_serializable(package="linksim")
class ChannelEmbedding(keras.layers.Layer):
    """A scalar channel state (SNR in dB, or log10 of a BER) → a learned embedding vector.

    Input
    -----
    state : [batch] or [batch, 1] float32

    Output
    ------
    : [batch, units] float32
    """

    def __init__(self, units: int = 32, **kwargs):
        super().__init__(**kwargs)
        check_positive_ints(units=units)
        self.units = int(units)
        self.hidden = keras.layers.Dense(self.units, activation="silu")
        self.out = keras.layers.Dense(self.units)

    def build(self, input_shape):
        self.hidden.build((None, 1))
        self.out.build((None, self.units))

    def call(self, state):
        state = tf.reshape(tf.cast(state, tf.float32), [-1, 1])  # [batch, 1]
        return self.out(self.hidden(state))

    def get_config(self):
        return {**super().get_config(), "units": self.units}


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
