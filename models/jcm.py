"""JCM (Bo et al., TCOM 2024): image codec whose encoder picks Gray QAM (or PAM/BPSK) symbols.

``JCMEncoder`` maps an image to logits over the PAM levels of each channel use, ``GumbelQAM``
picks a constellation point per use, and the sequence is normalised to unit average power;
``JCMDecoder`` maps the received complex symbols back to an image.

The Gumbel-softmax modulator: logits over PAM levels → Gray square-QAM (or real PAM/BPSK) symbols.

Per channel use the encoder gives logits over the ``√M`` amplitude levels of the I axis and of
the Q axis. In training, a straight-through Gumbel-softmax sample picks one level per axis: the
forward pass uses the hard one-hot choice, so every output is a valid constellation point, while
the gradient flows through the relaxed softmax (Jang et al. 2017; JCM, Bo et al., TCOM 2024). In
evaluation the most likely level is taken. Levels are those of :func:`phy.make_constellation`'s
unit-energy QAM, and :meth:`GumbelQAM.labels` gives each choice's Gray bit label per axis.
"""
import keras
import numpy as np
import tensorflow as tf

from models.checks import check_positive_ints
from phy.constellations import axis_labels, make_constellation, modulation_info
from phy.snr import normalize_power

__all__ = ["GumbelQAM", "JCMEncoder", "JCMDecoder"]


@keras.saving.register_keras_serializable(package="linksim")
class GumbelQAM(keras.layers.Layer):
    """Straight-through Gumbel-softmax choice of square-QAM (or PAM/BPSK) points.

    Parameters
    ----------
    modulation : str
        ``qpsk``, ``qam16``, ``qam64``, ``qam256``; or ``bpsk``, ``pam4``, ``pam8`` (real points, one axis).
    temperature : float
        Gumbel-softmax temperature τ > 0.

    Input
    -----
    logits : [batch, n, A, L], float32
        Unnormalised log-probabilities of the L levels of the I (index 0) and Q (index 1) axes;
        A = 2 for QAM (L = √M), A = 1 for PAM/BPSK (L = M).
    training : bool
        Gumbel sampling with a straight-through gradient when True; argmax otherwise.
    seed : None or [2] int32
        Stateless seed of the Gumbel noise (training only).

    Output
    ------
    : [batch, n], complex64 — points of the unit-energy constellation.
    """

    def __init__(self, modulation: str = "qam64", temperature: float = 1.0, **kwargs):
        super().__init__(**kwargs)
        info = modulation_info(modulation)
        if not temperature > 0:
            raise ValueError(f"temperature must be positive, got {temperature!r}")
        self.modulation, self.temperature = modulation, float(temperature)
        self.num_axes = info.num_axes
        labels, spacing = axis_labels(make_constellation(modulation), info.num_axes)
        self.num_levels = len(labels)
        self._levels = tf.constant((2 * np.arange(self.num_levels) - self.num_levels + 1) * spacing, tf.float32)  # [L]
        self._labels = tf.constant(labels, tf.int32)

    def choose(self, logits, training=False, seed=None):
        """One-hot level choices [batch, n, A, L] (straight-through in training)."""
        logits = tf.convert_to_tensor(logits, tf.float32)
        hard_from = logits
        if training:
            uniform = tf.random.stateless_uniform(tf.shape(logits), seed if seed is not None else [0, 0], minval=1e-10, maxval=1.0)
            soft = tf.nn.softmax((logits - tf.math.log(-tf.math.log(uniform))) / self.temperature, axis=-1)
            hard = tf.one_hot(tf.argmax(soft, axis=-1), self.num_levels)
            return hard + soft - tf.stop_gradient(soft)
        return tf.one_hot(tf.argmax(hard_from, axis=-1), self.num_levels)

    def call(self, logits, training=False, seed=None):
        amplitude = tf.reduce_sum(self.choose(logits, training, seed) * self._levels, axis=-1)  # [batch, n, A]
        if self.num_axes == 1:
            return tf.complex(amplitude[..., 0], tf.zeros_like(amplitude[..., 0]))
        return tf.complex(amplitude[..., 0], amplitude[..., 1])

    def labels(self, logits):
        """Gray bit labels of the evaluation choices per axis: [batch, n, 2] int32."""
        return tf.gather(self._labels, tf.argmax(tf.convert_to_tensor(logits, tf.float32), axis=-1, output_type=tf.int32))

    def get_config(self):
        return {**super().get_config(), "modulation": self.modulation, "temperature": self.temperature}


def _check_codec(image_size, num_symbols, filters):
    check_positive_ints(image_size=image_size, num_symbols=num_symbols, filters=filters)
    if image_size % 4:
        raise ValueError(f"image_size must be a multiple of 4, got {image_size}")
    positions = (image_size // 4) ** 2
    if num_symbols % positions:
        raise ValueError(f"num_symbols must be a multiple of (image_size/4)² = {positions}, got {num_symbols}")
    return num_symbols // positions


def _residual(filters):
    return [keras.layers.Conv2D(filters, 3, padding="same", activation="relu"), keras.layers.Conv2D(filters, 3, padding="same")]


@keras.saving.register_keras_serializable(package="linksim")
class JCMEncoder(keras.layers.Layer):
    """Image → n unit-power Gray QAM symbols.

    Two stride-2 convolutions and a residual block reduce an ``H × W`` image to ``H/4 × W/4``
    positions; a 1×1 convolution gives each position ``n / (H/4 · W/4)`` channel uses of logits
    over the ``√M`` levels of the I and Q axes. As in JCM's public code, the channel-use logits
    come straight from the feature map; JCM's ELBO also has a KL term towards a uniform symbol
    prior, left out here (the loss is the image MSE), so the encoder is free to use the
    constellation non-uniformly — the statistics SCDM's denoiser exploits.

    Parameters
    ----------
    image_size : int
        Side H = W of the input images (multiple of 4).
    num_symbols : int
        Channel uses n per image (multiple of (H/4)²; JCM/SCDM: 128 for 32×32).
    modulation : str
        ``qam64`` (JCM/SCDM), any square QAM, or ``bpsk`` / ``pam4`` / ``pam8``.
    filters : int
        Width of the convolutions.
    temperature : float
        Gumbel-softmax temperature.

    Input
    -----
    images : [batch, H, W, 3], float32 in [0, 1]
    training : bool
        Straight-through Gumbel sampling when True; the most likely level otherwise.
    seed : None or [2] int32
        Gumbel noise seed (training).

    Output
    ------
    : [batch, n], complex64 with ``‖z‖²/n = 1`` per image
    """

    def __init__(self, image_size: int = 32, num_symbols: int = 128, modulation: str = "qam64", filters: int = 64,
                 temperature: float = 1.0, **kwargs):
        super().__init__(**kwargs)
        self.uses_per_position = _check_codec(image_size, num_symbols, filters)
        self.image_size, self.num_symbols, self.filters = int(image_size), int(num_symbols), int(filters)
        self.modulator = GumbelQAM(modulation, temperature)
        self.modulation, self.temperature = modulation, float(temperature)
        self.constellation_points = tf.constant(make_constellation(modulation).points.numpy(), tf.complex64)

    def build(self, input_shape):
        conv = keras.layers.Conv2D
        self.head = [conv(self.filters, 5, strides=2, padding="same", activation="relu"),
                     conv(self.filters, 5, strides=2, padding="same", activation="relu")]
        self.block = _residual(self.filters)
        self.logits = conv(self.uses_per_position * self.modulator.num_axes * self.modulator.num_levels, 1)
        shape = input_shape
        for layer in self.head + self.block + [self.logits]:
            layer.build(shape)
            shape = layer.compute_output_shape(shape)

    def call(self, images, training=False, seed=None):
        x = images
        for layer in self.head:
            x = layer(x)
        x = tf.nn.relu(x + self.block[1](self.block[0](x)))
        logits = tf.reshape(self.logits(x), [-1, self.num_symbols, self.modulator.num_axes, self.modulator.num_levels])  # [batch, n, A, L]
        return normalize_power(self.modulator(logits, training=training, seed=seed))

    def uniform_symbols(self, batch_size, seed):
        """i.i.d. uniform constellation points, power-normalised like the encoder's: [batch, n] complex64."""
        index = tf.random.stateless_uniform([batch_size, self.num_symbols], seed, 0, len(self.constellation_points), tf.int32)
        return normalize_power(tf.gather(self.constellation_points, index))

    def get_config(self):
        return {**super().get_config(), "image_size": self.image_size, "num_symbols": self.num_symbols,
                "modulation": self.modulation, "filters": self.filters, "temperature": self.temperature}


@keras.saving.register_keras_serializable(package="linksim")
class JCMDecoder(keras.layers.Layer):
    """Received complex symbols → image (mirror of :class:`JCMEncoder`).

    Parameters
    ----------
    image_size, num_symbols, filters : int
        As in :class:`JCMEncoder`.

    Input
    -----
    symbols : [batch, n], complex64

    Output
    ------
    : [batch, H, W, 3], float32 in [0, 1]
    """

    def __init__(self, image_size: int = 32, num_symbols: int = 128, filters: int = 64, **kwargs):
        super().__init__(**kwargs)
        self.uses_per_position = _check_codec(image_size, num_symbols, filters)
        self.image_size, self.num_symbols, self.filters = int(image_size), int(num_symbols), int(filters)

    def build(self, input_shape):
        side = self.image_size // 4
        self.head = keras.layers.Conv2D(self.filters, 3, padding="same", activation="relu")
        self.block = _residual(self.filters)
        self.up = [keras.layers.Conv2DTranspose(self.filters, 5, strides=2, padding="same", activation="relu"),
                   keras.layers.Conv2DTranspose(self.filters, 5, strides=2, padding="same", activation="relu"),
                   keras.layers.Conv2D(3, 3, padding="same", activation="sigmoid")]
        shape = (input_shape[0], side, side, 2 * self.uses_per_position)
        for layer in [self.head] + self.block + self.up:
            layer.build(shape)
            shape = layer.compute_output_shape(shape)

    def call(self, symbols, training=False):
        side = self.image_size // 4
        symbols = tf.convert_to_tensor(symbols, tf.complex64)
        x = tf.stack([tf.math.real(symbols), tf.math.imag(symbols)], axis=-1)  # [batch, n, 2]
        x = tf.reshape(x, [-1, side, side, 2 * self.uses_per_position])  # [batch, h, w, 2·uses]
        x = self.head(x)
        x = tf.nn.relu(x + self.block[1](self.block[0](x)))
        for layer in self.up:
            x = layer(x)
        return x

    def get_config(self):
        return {**super().get_config(), "image_size": self.image_size, "num_symbols": self.num_symbols, "filters": self.filters}
