"""JCM (Bo et al., TCOM 2024): image codec whose encoder picks Gray QAM (or PAM/BPSK) symbols.

An encoder maps an image to logits over the PAM levels of each channel use, ``GumbelQAM`` picks a
constellation point per use, and the sequence is normalised to unit average power; the decoder
maps the received complex symbols back to an image. ``JCMResNetEncoder`` / ``JCMResNetDecoder``
follow JCM's published code; ``SmallJCMEncoder`` / ``SmallJCMDecoder`` are a light convolutional
codec with the same modulator, for fast tests and quick scenarios.

The Gumbel-softmax modulator: logits over PAM levels → Gray square-QAM (or real PAM/BPSK) symbols.

Per channel use the encoder gives logits over the ``√M`` amplitude levels of the I axis and of
the Q axis. In training, a straight-through Gumbel-softmax sample picks one level per axis: the
forward pass uses the hard one-hot choice, so every output is a valid constellation point, while
the gradient flows through the relaxed softmax (Jang et al. 2017; JCM, Bo et al., TCOM 2024). In
evaluation the most likely level is taken. Levels are those of :func:`linksim.phy.make_constellation`'s
unit-energy QAM, and :meth:`GumbelQAM.labels` gives each choice's Gray bit label per axis.
"""
import keras
import numpy as np
import tensorflow as tf

from linksim.models.checks import check_positive_ints
from linksim.phy.constellations import axis_labels, make_constellation, modulation_info
from linksim.phy.snr import normalize_power

__all__ = ["GumbelQAM", "QAMEncoder", "SmallJCMEncoder", "SmallJCMDecoder", "JCMResNetEncoder", "JCMResNetDecoder"]


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


class QAMEncoder(keras.layers.Layer):
    """What every JCM encoder has: ``num_symbols`` channel uses of a ``modulator`` (:class:`GumbelQAM`),
    and i.i.d. uniform points of its constellation for the ablations that ignore the encoder."""

    def uniform_symbols(self, batch_size, seed):
        """i.i.d. uniform constellation points, power-normalised like the encoder's: [batch, n] complex64."""
        points = tf.constant(make_constellation(self.modulation).points.numpy(), tf.complex64)
        index = tf.random.stateless_uniform([batch_size, self.num_symbols], seed, 0, len(points), tf.int32)
        return normalize_power(tf.gather(points, index))


def _residual(filters):
    return [keras.layers.Conv2D(filters, 3, padding="same", activation="relu"), keras.layers.Conv2D(filters, 3, padding="same")]


@keras.saving.register_keras_serializable(package="linksim")
class SmallJCMEncoder(QAMEncoder):
    """Image → n unit-power Gray QAM symbols, a light convolutional stand-in for JCM's encoder.

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

    def get_config(self):
        return {**super().get_config(), "image_size": self.image_size, "num_symbols": self.num_symbols,
                "modulation": self.modulation, "filters": self.filters, "temperature": self.temperature}


@keras.saving.register_keras_serializable(package="linksim")
class SmallJCMDecoder(keras.layers.Layer):
    """Received complex symbols → image (mirror of :class:`SmallJCMEncoder`).

    Parameters
    ----------
    image_size, num_symbols, filters : int
        As in :class:`SmallJCMEncoder`.

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


# ---------------------------------------------------------------------------------- JCM as published
def _prelu():
    """PyTorch's default PReLU: one slope for the whole tensor, 0.25 at start."""
    return keras.layers.PReLU(alpha_initializer=keras.initializers.Constant(0.25), shared_axes=[1, 2, 3])


def _batch_norm():
    """PyTorch's BatchNorm2d defaults (momentum 0.1 of the new batch, ε = 1e-5)."""
    return keras.layers.BatchNormalization(momentum=0.9, epsilon=1e-5)


class _ResNetBlock(keras.layers.Layer):
    """JCM's residual block: conv3×3 (stride s) → BN → PReLU → conv3×3 → BN, plus a 1×1 conv + BN
    shortcut where the shape changes, → PReLU."""

    def __init__(self, filters: int, stride: int = 1, **kwargs):
        super().__init__(**kwargs)
        self.filters, self.stride = int(filters), int(stride)

    def build(self, input_shape):
        conv = keras.layers.Conv2D
        self.left = [conv(self.filters, 3, strides=self.stride, padding="same", use_bias=False), _batch_norm(), _prelu(),
                     conv(self.filters, 3, padding="same", use_bias=False), _batch_norm()]
        self.shortcut = []
        if self.stride != 1 or int(input_shape[-1]) != self.filters:
            self.shortcut = [conv(self.filters, 1, strides=self.stride, use_bias=False), _batch_norm()]
        self.out = _prelu()
        for path in (self.left, self.shortcut):
            shape = input_shape
            for layer in path:
                layer.build(shape)
                shape = layer.compute_output_shape(shape)
        self.out.build(shape)

    def compute_output_shape(self, input_shape):
        return (input_shape[0], input_shape[1] // self.stride, input_shape[2] // self.stride, self.filters)

    def call(self, x, training=False):
        y, skip = x, x
        for layer in self.left:
            y = layer(y, training=training) if isinstance(layer, keras.layers.BatchNormalization) else layer(y)
        for layer in self.shortcut:
            skip = layer(skip, training=training) if isinstance(layer, keras.layers.BatchNormalization) else layer(skip)
        return self.out(y + skip)


def _run(layers, x, training):
    for layer in layers:
        x = layer(x, training=training) if isinstance(layer, (_ResNetBlock, keras.layers.BatchNormalization)) else layer(x)
    return x


@keras.saving.register_keras_serializable(package="linksim")
class JCMResNetEncoder(QAMEncoder):
    """JCM's published encoder (SJTU-mxtao/Joint-Coding-Modulation-for-Digital-Semantic-Communication,
    ``modules.Encoder`` and ``network.JCM``), in Keras.

    A 3×3 conv (64, BN, PReLU) and residual blocks of 64, 128 (stride 2), 2 × 256 (stride 2) and
    2 × A·n (stride 2) channels take an H × W image to an (H/8) × (W/8) map (4 × 4 for 32 × 32) of
    A·n channels (A = 2 axes for QAM, 1 for BPSK/PAM). ``analog``: the map is averaged over its
    positions and the A·n values are sent as they are (JCM's analog pre-training network). Otherwise a
    fully connected layer with ReLU (as in JCM's code) gives the logits of the L levels of each of the
    A·n axes, and the Gumbel-softmax modulator picks one level per axis at temperature 1.5 (JCM's).
    JCM's evaluation samples too (its ``gumbel_softmax`` runs in both modes); ``stochastic: false``
    takes the most likely level instead. The fully connected layer exists in both modes, so weights
    copy from the analog to the digital codec.

    Where this differs from the code: power is normalised to 1 per image (JCM's code normalises over
    the whole batch, which makes an image's symbols depend on its batch mates), and levels and
    labels are Gray QAM's (symbol choices are unaffected).

    Input
    -----
    images : [batch, H, W, 3] float32, H = W a multiple of 8
    training : bool — BatchNorm on batch statistics and straight-through Gumbel gradients
    seed : [2] int32 — Gumbel noise

    Output
    ------
    : [batch, n] complex64, mean |z|² = 1 per image
    """

    def __init__(self, image_size: int = 32, num_symbols: int = 128, modulation: str = "qam64", temperature: float = 1.5,
                 analog: bool = False, stochastic: bool = True, **kwargs):
        super().__init__(**kwargs)
        check_positive_ints(image_size=image_size, num_symbols=num_symbols)
        if image_size % 8:
            raise ValueError(f"image_size must be a multiple of 8, got {image_size}")
        self.image_size, self.num_symbols, self.analog, self.stochastic = int(image_size), int(num_symbols), bool(analog), bool(stochastic)
        self.modulator = GumbelQAM(modulation, temperature)
        self.modulation, self.temperature = modulation, float(temperature)
        self.axes = self.modulator.num_axes * self.num_symbols  # A·n real values

    def build(self, input_shape):
        self.body = [keras.layers.Conv2D(64, 3, padding="same", use_bias=False), _batch_norm(), _prelu(),
                     _ResNetBlock(64), _ResNetBlock(128, 2), _ResNetBlock(256, 2), _ResNetBlock(256),
                     _ResNetBlock(self.axes, 2), _ResNetBlock(self.axes)]
        shape = input_shape
        for layer in self.body:
            layer.build(shape)
            shape = layer.compute_output_shape(shape)
        self.logits = keras.layers.Dense(self.axes * self.modulator.num_levels, activation="relu")
        self.logits.build((None, shape[1] * shape[2] * shape[3]))
        self.logits.trainable = not self.analog  # unused by the analog network, kept so its weights copy over

    def features(self, images, training=False):
        """The (H/8, W/8, A·n) map: [batch, H/8, W/8, A·n] float32."""
        return _run(self.body, images, training)

    def call(self, images, training=False, seed=None):
        x = self.features(images, training)
        if self.analog:
            values = tf.reduce_mean(x, axis=[1, 2])  # [batch, A·n]
            values = tf.reshape(values, [-1, self.num_symbols, self.modulator.num_axes])
            symbols = tf.complex(values[..., 0], values[..., 1] if self.modulator.num_axes == 2 else tf.zeros_like(values[..., 0]))
            return normalize_power(symbols)
        logits = tf.reshape(self.logits(tf.reshape(x, [tf.shape(x)[0], -1])),
                            [-1, self.num_symbols, self.modulator.num_axes, self.modulator.num_levels])  # [batch, n, A, L]
        return normalize_power(self.modulator(logits, training=training or self.stochastic, seed=seed))

    def get_config(self):
        return {**super().get_config(), "image_size": self.image_size, "num_symbols": self.num_symbols, "modulation": self.modulation,
                "temperature": self.temperature, "analog": self.analog, "stochastic": self.stochastic}


@keras.saving.register_keras_serializable(package="linksim")
class JCMResNetDecoder(keras.layers.Layer):
    """JCM's published reconstruction decoder (``modules.Decoder_Recon``), in Keras.

    The received A·n values are laid out as an (H/8) × (W/8) map; a 1×1 conv to 256 channels
    (PReLU), two stages of 2 residual blocks of 256 (each followed by PReLU), depth-to-space ×4, a 1×1
    conv to 128 (PReLU), 2 residual blocks of 128 (PReLU), depth-to-space ×2 and a 1×1 conv to 3
    channels give the image; the output is linear, as in JCM.

    Input
    -----
    symbols : [batch, n] complex64

    Output
    ------
    : [batch, H, W, 3] float32
    """

    def __init__(self, image_size: int = 32, num_symbols: int = 128, modulation: str = "qam64", **kwargs):
        super().__init__(**kwargs)
        check_positive_ints(image_size=image_size, num_symbols=num_symbols)
        self.image_size, self.num_symbols, self.modulation = int(image_size), int(num_symbols), modulation
        self.num_axes = modulation_info(modulation).num_axes
        side = self.image_size // 8
        if image_size % 8 or (self.num_axes * self.num_symbols) % (side * side):
            raise ValueError(f"A·n = {self.num_axes * self.num_symbols} values must fill the {side}×{side} map of a {image_size}-pixel image")

    def build(self, input_shape):
        side = self.image_size // 8
        conv = keras.layers.Conv2D
        self.first = [conv(256, 1), _prelu(), _ResNetBlock(256), _ResNetBlock(256), _prelu(), _ResNetBlock(256), _ResNetBlock(256), _prelu()]
        self.second = [conv(128, 1), _prelu(), _ResNetBlock(128), _ResNetBlock(128), _prelu()]
        self.last = conv(3, 1)
        shape = (None, side, side, self.num_axes * self.num_symbols // (side * side))
        for layers, block in ((self.first, 4), (self.second, 2)):
            for layer in layers:
                layer.build(shape)
                shape = layer.compute_output_shape(shape)
            shape = (None, shape[1] * block, shape[2] * block, shape[3] // block**2)  # depth to space
        self.last.build(shape)

    def call(self, symbols, training=False):
        side = self.image_size // 8
        symbols = tf.convert_to_tensor(symbols, tf.complex64)
        parts = [tf.math.real(symbols), tf.math.imag(symbols)][: self.num_axes]
        x = tf.reshape(tf.stack(parts, -1), [-1, side, side, self.num_axes * self.num_symbols // (side * side)])
        x = tf.nn.depth_to_space(_run(self.first, x, training), 4)  # [batch, 4·side, 4·side, 16]
        x = tf.nn.depth_to_space(_run(self.second, x, training), 2)  # [batch, H, W, 32]
        return self.last(x)

    def get_config(self):
        return {**super().get_config(), "image_size": self.image_size, "num_symbols": self.num_symbols, "modulation": self.modulation}
