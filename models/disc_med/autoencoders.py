"""The learned-compression baselines of DiSC-Med, at the paper's compression ratio.

DiSC-Med sends two semantic volumes of (D/2, H/4, W/4) real values: D·H·W/16 per CT volume. The
baselines send the same count from the CT itself, slice by slice:

- :class:`CTEncoder` / :class:`CTDecoder` — a deep convolutional autoencoder (DCAE [24]): two
  stride-2 convolutions to an (H/4, W/4, 1) latent per slice, decoder mirrored;
- with ``codebook`` set, a VQ-VAE (the paper compares VQ-VAE-2 [25]; one level here): an
  (H/8, W/8, 4) latent whose 4-vectors are replaced by their nearest codebook entry (straight-
  through gradients, codebook and commitment losses with β = 0.25 as VQ-VAE), the same
  D·H·W/16 real values.

The encoder scales each volume's latent to mean power ``power`` (the SNR of the link refers to
the curve's ``signal_power``, which the scenario sets to the same value).
"""
import keras
import tensorflow as tf

from linksim.models.checks import check_positive_ints
from linksim.models.disc_med.slices import from_slices, to_slices

__all__ = ["CTEncoder", "CTDecoder"]


def _conv(filters, stride=1, transpose=False, activation="relu"):
    kind = keras.layers.Conv2DTranspose if transpose else keras.layers.Conv2D
    return kind(filters, 3, strides=stride, padding="same", activation=activation)


@keras.saving.register_keras_serializable(package="linksim")
class CTEncoder(keras.layers.Layer):
    """CT volumes → latent volumes.

    Input
    -----
    volumes : [batch, D, H, W, K] float32, channel 0 the CT in [0, 1]

    Output
    ------
    : [batch, D, H/4, W/4, 1] (DCAE) or [batch, D, H/8, W/8, 4] (VQ-VAE) float32, mean power ``power`` per volume
    """

    def __init__(self, filters: int = 32, codebook: int | None = None, power: float = 1.0, beta: float = 0.25, **kwargs):
        super().__init__(**kwargs)
        check_positive_ints(filters=filters, **({"codebook": codebook} if codebook is not None else {}))
        self.filters, self.codebook_size, self.power, self.beta = int(filters), codebook, float(power), float(beta)
        layers = [_conv(self.filters, 2), _conv(2 * self.filters, 2)]
        if codebook is None:
            layers.append(_conv(1, activation=None))
        else:
            layers += [_conv(2 * self.filters, 2), _conv(4, activation=None)]
        self.body = keras.Sequential(layers)

    def build(self, input_shape):
        if self.codebook_size is not None:
            self.codebook = self.add_weight(name="codebook", shape=(self.codebook_size, 4),
                                            initializer=keras.initializers.RandomUniform(-1.0, 1.0))

    def nearest_code(self, latent):
        """Nearest codebook entry of each 4-vector, straight-through; adds the VQ-VAE losses in training."""
        codebook = tf.convert_to_tensor(self.codebook)  # [K, 4]
        flat = tf.reshape(latent, [-1, 4])
        distances = tf.reduce_sum(tf.square(flat[:, None, :] - codebook[None]), -1)  # [vectors, K]
        chosen = tf.reshape(tf.gather(codebook, tf.argmin(distances, -1)), tf.shape(latent))
        self.add_loss(tf.reduce_mean(tf.square(tf.stop_gradient(latent) - chosen))
                      + self.beta * tf.reduce_mean(tf.square(latent - tf.stop_gradient(chosen))))
        return latent + tf.stop_gradient(chosen - latent)

    def call(self, volumes):
        depth = volumes.shape[1]
        latent = self.body(to_slices(volumes[..., :1]))
        if self.codebook_size is not None:
            latent = self.nearest_code(latent)
        latent = from_slices(latent, depth)
        power = tf.reduce_mean(tf.square(latent), axis=[1, 2, 3, 4], keepdims=True)
        return latent * tf.sqrt(self.power / tf.maximum(power, 1e-12))

    def get_config(self):
        return {**super().get_config(), "filters": self.filters, "codebook": self.codebook_size, "power": self.power, "beta": self.beta}


@keras.saving.register_keras_serializable(package="linksim")
class CTDecoder(keras.layers.Layer):
    """Received latent volumes → CT volumes [batch, D, H, W, 1] in [0, 1] (mirror of :class:`CTEncoder`)."""

    def __init__(self, filters: int = 32, vq: bool = False, **kwargs):
        super().__init__(**kwargs)
        check_positive_ints(filters=filters)
        self.filters, self.vq = int(filters), bool(vq)
        layers = [_conv(2 * self.filters)]
        if self.vq:
            layers.append(_conv(2 * self.filters, 2, transpose=True))
        layers += [_conv(2 * self.filters, 2, transpose=True), _conv(self.filters, 2, transpose=True), _conv(1, activation="sigmoid")]
        self.body = keras.Sequential(layers)

    def call(self, latent):
        return from_slices(self.body(to_slices(latent)), latent.shape[1])

    def get_config(self):
        return {**super().get_config(), "filters": self.filters, "vq": self.vq}
