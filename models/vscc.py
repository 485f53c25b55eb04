"""VSCC (variational source-channel coding): the residual/attention codec of its Fig. 5, the
channel-matching KL of eq. 10, the VAE prior of eq. 11 and the receiver's resampling.

``VSCCEncoder`` maps images in ``[0, 1]`` (normalised to ``[-1, 1]`` inside) to the moments
``(μ, log σ²)`` of a k-channel latent at 1/16 of each side, adds the KL term of its ``prior``
(``add_loss``, training only), and outputs what the transmitter sends: ``μ`` (in training the
sample ``μ + σ·ε``), and with ``send="moments"`` also the variance (``variance_form``: σ² as the
paper's §V describes, σ, or log σ²), optionally normalised to unit power per image. ``VSCCDecoder`` resamples the received latent (``none``: AE; ``tx``: with the
received variance; ``kb``: with the knowledge-base variance it stores) and decodes it with
``tanh`` to ``[-1, 1]``, returned in ``[0, 1]``.

The architecture follows the paper's description, which matches the AutoencoderKL of
CompVis/latent-diffusion closely: residual blocks of (GroupNorm, swish, 3×3 conv) × 2 with a 1×1
skip where the width changes; attention blocks of GroupNorm → 1×1 Q/K/V → softmax(QKᵀ/√C)·V → 1×1
conv, residual; stride-2 conv downsampling and nearest-neighbour ×2 upsampling followed by a conv;
a 1×1 "channel matching" conv after the moments (latent-diffusion's ``quant_conv``) and before the
decoder (``post_quant_conv``). GroupNorm uses ``gcd(32, C)`` groups, so the paper's 32 groups at
its widths (32…192) and valid groups at the smaller CPU-scale widths. log σ² is clamped to
[−30, 20] as in latent-diffusion.

Training: the paper's eq. 10 samples the latent once, ``z ~ N(μ1, σ1² + σ2²)``. Since
``μ + σ1·ε + n`` has exactly that law, the encoder sends the sample ``μ + σ1·ε`` in training and
the channel adds ``n``; at test time it sends ``μ`` and the receiver adds ``σ̂·ε`` (``tx``: the
received σ̂; ``kb``: σ_KB), as the paper's Algorithm 2 does.
"""
import math

import keras
import numpy as np
import tensorflow as tf

from linksim.models.attention import AttentionBlock
from linksim.models.checks import check_positive_ints

__all__ = ["ResnetBlock", "VSCCEncoder", "VSCCDecoder", "vscc_kl", "vae_kl", "variance_as_sent", "std_from_received",
           "LOG_VARIANCE_RANGE", "VARIANCE_FORMS"]

LOG_VARIANCE_RANGE = (-30.0, 20.0)
PRIORS = ("channel", "standard", "none")
SENDS = ("mean", "moments")
POWER_NORMALIZATIONS = ("none", "unit")
RESAMPLES = ("none", "kb", "tx")
VARIANCE_FORMS = ("variance", "std", "log_variance")


def variance_as_sent(log_variance, form: str):
    """The variance in the form it is transmitted: σ², σ or log σ² (``[batch, n]`` float32)."""
    if form == "variance":
        return tf.exp(log_variance)
    if form == "std":
        return tf.exp(0.5 * log_variance)
    return log_variance


def std_from_received(received, form: str):
    """σ̂ for resampling from the received variance values of ``form``: a received σ² below 0
    (noise) resamples with σ̂ = 0, a received σ with |σ|, a received log σ² with exp(½·clamp)."""
    if form == "variance":
        return tf.sqrt(tf.maximum(received, 0.0))
    if form == "std":
        return tf.abs(received)
    return tf.exp(0.5 * tf.clip_by_value(received, *LOG_VARIANCE_RANGE))


def _groups(channels: int) -> int:
    return math.gcd(32, channels)


def vscc_kl(mean, log_variance, noise_variance, d):
    """Eq. 10's channel-matching term KL(N(μ, σ1² + σ2²) ‖ N(0, σ2² + d)), elementwise.

    Input
    -----
    mean, log_variance : [...], float32 — μ1 and log σ1²
    noise_variance : scalar float32 — σ2², the channel noise variance per real value
    d : float — the channel matching constant (CMC)

    Output
    ------
    : [...], float32
    """
    received = tf.exp(log_variance) + noise_variance  # σ1² + σ2²
    prior = noise_variance + d  # σ2² + d
    return 0.5 * (tf.math.log(prior / received) + (tf.square(mean) + received) / prior - 1.0)


def vae_kl(mean, log_variance):
    """Eq. 11's term KL(N(μ, σ²) ‖ N(0, 1)) = ½(−log σ² + σ² + μ² − 1), elementwise."""
    return 0.5 * (-log_variance + tf.exp(log_variance) + tf.square(mean) - 1.0)


@keras.saving.register_keras_serializable(package="linksim")
class ResnetBlock(keras.layers.Layer):
    """(GroupNorm, swish, 3×3 conv) × 2 plus the input (1×1 conv where the width changes).

    Input ``[batch, H, W, C_in]`` float32 → output ``[batch, H, W, channels]`` float32.
    """

    def __init__(self, channels: int, **kwargs):
        super().__init__(**kwargs)
        check_positive_ints(channels=channels)
        self.channels = int(channels)

    def build(self, input_shape):
        c_in = input_shape[-1]
        self.norm1 = keras.layers.GroupNormalization(groups=_groups(c_in), epsilon=1e-6)
        self.conv1 = keras.layers.Conv2D(self.channels, 3, padding="same")
        self.norm2 = keras.layers.GroupNormalization(groups=_groups(self.channels), epsilon=1e-6)
        self.conv2 = keras.layers.Conv2D(self.channels, 3, padding="same")
        self.skip = keras.layers.Conv2D(self.channels, 1) if c_in != self.channels else None
        out_shape = tuple(input_shape[:-1]) + (self.channels,)
        self.norm1.build(input_shape)
        self.conv1.build(input_shape)
        self.norm2.build(out_shape)
        self.conv2.build(out_shape)
        if self.skip is not None:
            self.skip.build(input_shape)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[:-1]) + (self.channels,)

    def call(self, x):
        h = self.conv1(keras.activations.silu(self.norm1(x)))
        h = self.conv2(keras.activations.silu(self.norm2(h)))
        return (x if self.skip is None else self.skip(x)) + h

    def get_config(self):
        return {**super().get_config(), "channels": self.channels}


def _check_widths(channels, latent_channels, image_size):
    if len(channels) < 1:
        raise ValueError("channels must name at least one level width")
    check_positive_ints(latent_channels=latent_channels, image_size=image_size, **{f"channels[{i}]": c for i, c in enumerate(channels)})
    if image_size % 2 ** len(channels):
        raise ValueError(f"image_size must be a multiple of 2^{len(channels)} = {2 ** len(channels)}, got {image_size}")


def _build_chain(layers, shape):
    for layer in layers:
        layer.build(shape)
        shape = layer.compute_output_shape(shape)
    return shape


@keras.saving.register_keras_serializable(package="linksim")
class VSCCEncoder(keras.layers.Layer):
    """Image → what the transmitter sends, with the KL term of ``prior`` in training.

    Parameters
    ----------
    channels : sequence of int
        Width of each level; every level halves H and W (paper: 32, 64, 128, 192).
    latent_channels : int
        k, channels of the latent (paper: 16).
    mid_blocks : int
        Residual blocks before the attention block at the last width (paper: 3).
    prior : "channel" | "standard" | "none"
        The KL term added in training: eq. 10 with CMC ``d`` (VSCC), eq. 11 (VAE), none (AE).
    d : float
        Channel matching constant of ``prior="channel"``.
    kl_weight : float
        Weight of the KL (mean over latent elements) against the reconstruction loss.
    send : "mean" | "moments"
        What is transmitted: ``μ`` (n values), or ``μ`` and the variance (2n values).
    variance_form : "variance" | "std" | "log_variance"
        The variance as sent with ``moments``: σ² (the paper's §V: the received variance is
        σ_z² ~ N(σ1², σ2²)), σ, or log σ² (a measured alternative: the channel's noise on log σ²
        makes the received variance log-normally noisy).
    power_normalization : "none" | "unit"
        ``unit`` scales each image's sent mean to unit average power per real value (and its
        variance by the same factor); ``none`` sends it as it is.
    resample : bool
        Send the sample ``μ + σ·ε`` in training (VSCC, VAE); ``False`` sends ``μ`` (AE).

    Input
    -----
    images : [batch, H, W, 3], float32 in [0, 1]
    no : scalar float32 — channel noise variance per real value (σ2², needed by ``prior="channel"``)
    seed : [2] int32 — of the training sample

    Output
    ------
    : [batch, n] or [batch, 2n] float32, n = (H/2^L)·(W/2^L)·k
    """

    def __init__(self, channels=(32, 64, 128, 192), latent_channels: int = 16, mid_blocks: int = 3, prior: str = "channel",
                 d: float = 1.0, kl_weight: float = 1.0, send: str = "mean", power_normalization: str = "none",
                 resample: bool = True, image_size: int = 32, variance_form: str = "variance", **kwargs):
        super().__init__(**kwargs)
        channels = tuple(int(c) for c in channels)
        _check_widths(channels, latent_channels, image_size)
        check_positive_ints(mid_blocks=mid_blocks)
        for name, value, allowed in (("prior", prior, PRIORS), ("send", send, SENDS), ("power_normalization", power_normalization, POWER_NORMALIZATIONS),
                                     ("variance_form", variance_form, VARIANCE_FORMS)):
            if value not in allowed:
                raise ValueError(f"{name} must be one of {', '.join(allowed)}, got {value!r}")
        if not d > 0 or not kl_weight >= 0:
            raise ValueError(f"d must be positive and kl_weight non-negative, got d={d!r}, kl_weight={kl_weight!r}")
        self.channels, self.latent_channels, self.mid_blocks = channels, int(latent_channels), int(mid_blocks)
        self.prior, self.d, self.kl_weight = prior, float(d), float(kl_weight)
        self.send, self.power_normalization, self.resample, self.image_size = send, power_normalization, bool(resample), int(image_size)
        self.variance_form = variance_form

    def build(self, input_shape):
        conv = keras.layers.Conv2D
        layers = [conv(self.channels[0], 3, padding="same")]
        for width in self.channels:
            layers += [ResnetBlock(width), conv(width, 3, strides=2, padding="same")]
        layers += [ResnetBlock(self.channels[-1]) for _ in range(self.mid_blocks)] + [AttentionBlock()]
        layers += [keras.layers.GroupNormalization(groups=_groups(self.channels[-1]), epsilon=1e-6)]
        self.body = layers
        self.to_moments = conv(2 * self.latent_channels, 3, padding="same")
        self.channel_matching = conv(2 * self.latent_channels, 1)
        shape = _build_chain(self.body, input_shape)
        shape = _build_chain([self.to_moments, self.channel_matching], shape)
        self.num_values = int(np.prod(shape[1:-1])) * self.latent_channels

    def moments(self, images):
        """``(μ, log σ²)``, each ``[batch, n]`` float32 (log σ² clamped)."""
        x = 2.0 * tf.convert_to_tensor(images, tf.float32) - 1.0  # [0, 1] → [-1, 1]
        for i, layer in enumerate(self.body):
            x = keras.activations.silu(layer(x)) if i == len(self.body) - 1 else layer(x)  # GroupNorm, swish
        x = self.channel_matching(self.to_moments(x))  # [batch, h, w, 2k]
        mean, log_variance = tf.split(x, 2, axis=-1)
        flat = [tf.shape(x)[0], -1]
        return tf.reshape(mean, flat), tf.reshape(tf.clip_by_value(log_variance, *LOG_VARIANCE_RANGE), flat)  # [batch, n] each

    def kl(self, mean, log_variance, no):
        """The prior's KL term, mean over the latent elements and the batch (scalar)."""
        if self.prior == "channel":
            return tf.reduce_mean(vscc_kl(mean, log_variance, tf.cast(no, tf.float32), self.d))
        if self.prior == "standard":
            return tf.reduce_mean(vae_kl(mean, log_variance))
        return tf.constant(0.0)

    def normalised(self, sent, log_variance):
        """``(sent, log σ²)`` scaled to unit power per image for ``power_normalization="unit"``."""
        if self.power_normalization == "none":
            return sent, log_variance
        power = tf.reduce_mean(tf.square(sent), axis=-1, keepdims=True)  # [batch, 1]
        power = tf.maximum(power, 1e-12)
        return sent / tf.sqrt(power), log_variance - tf.math.log(power)

    def call(self, images, no=None, training=False, seed=None):
        mean, log_variance = self.moments(images)
        sent = mean
        if training:
            if self.prior != "none" and self.kl_weight > 0:
                self.add_loss(self.kl_weight * self.kl(mean, log_variance, 1.0 if no is None else no))
            if self.resample:
                noise = tf.random.stateless_normal(tf.shape(mean), seed) if seed is not None else tf.random.normal(tf.shape(mean))
                sent = mean + tf.exp(0.5 * log_variance) * noise
        sent, log_variance = self.normalised(sent, log_variance)
        if self.send == "mean":
            return sent  # [batch, n]
        return tf.concat([sent, variance_as_sent(log_variance, self.variance_form)], axis=-1)  # [batch, 2n]

    def get_config(self):
        return {**super().get_config(), "channels": list(self.channels), "latent_channels": self.latent_channels,
                "mid_blocks": self.mid_blocks, "prior": self.prior, "d": self.d, "kl_weight": self.kl_weight, "send": self.send,
                "power_normalization": self.power_normalization, "resample": self.resample, "image_size": self.image_size,
                "variance_form": self.variance_form}


@keras.saving.register_keras_serializable(package="linksim")
class VSCCDecoder(keras.layers.Layer):
    """Received latent → resampled ŷ → image.

    Parameters
    ----------
    channels, latent_channels, image_size : as the encoder's
    mid_blocks : int
        Residual blocks before the attention block at the last width (paper: 2).
    resample : "none" | "kb" | "tx"
        In evaluation: ``none`` decodes z (AE); ``tx`` reads ``[z_μ, z_var]`` and decodes
        ``z_μ + σ̂·ε`` (σ̂ from the received variance, :func:`std_from_received`); ``kb`` decodes
        ``z + σ_KB·ε`` with the stored :attr:`kb_variance`. In training z is decoded as received
        (the encoder sent the sample).
    variance_form : as the encoder's (what ``tx`` receives)

    Input
    -----
    received : [batch, n] (``tx``: [batch, 2n]) float32
    seed : [2] int32 — of the resampling

    Output
    ------
    : [batch, H, W, 3], float32 in [0, 1]
    """

    def __init__(self, channels=(32, 64, 128, 192), latent_channels: int = 16, mid_blocks: int = 2, resample: str = "kb",
                 image_size: int = 32, variance_form: str = "variance", **kwargs):
        super().__init__(**kwargs)
        channels = tuple(int(c) for c in channels)
        _check_widths(channels, latent_channels, image_size)
        check_positive_ints(mid_blocks=mid_blocks)
        if resample not in RESAMPLES:
            raise ValueError(f"resample must be one of {', '.join(RESAMPLES)}, got {resample!r}")
        if variance_form not in VARIANCE_FORMS:
            raise ValueError(f"variance_form must be one of {', '.join(VARIANCE_FORMS)}, got {variance_form!r}")
        self.variance_form = variance_form
        self.channels, self.latent_channels, self.mid_blocks = channels, int(latent_channels), int(mid_blocks)
        self.resample, self.image_size = resample, int(image_size)
        self.side = self.image_size // 2 ** len(channels)
        self.num_values = self.side * self.side * self.latent_channels

    def build(self, input_shape):
        conv = keras.layers.Conv2D
        self.kb_variance = self.add_weight(shape=(self.num_values,), initializer="ones", trainable=False, name="kb_variance")
        layers = [conv(self.latent_channels, 1), conv(self.channels[-1], 3, padding="same")]
        layers += [ResnetBlock(self.channels[-1]) for _ in range(self.mid_blocks)] + [AttentionBlock()]
        for width in reversed(self.channels):
            layers += [ResnetBlock(width), keras.layers.UpSampling2D(2), conv(width, 3, padding="same")]
        layers += [ResnetBlock(self.channels[0]), ResnetBlock(self.channels[0]),
                   keras.layers.GroupNormalization(groups=_groups(self.channels[0]), epsilon=1e-6)]
        self.body = layers
        self.to_image = conv(3, 3, padding="same")
        shape = _build_chain(self.body, (input_shape[0], self.side, self.side, self.latent_channels))
        _build_chain([self.to_image], shape)

    def resampled(self, received, training=False, seed=None):
        """ŷ from the received values, ``[batch, n]`` float32."""
        received = tf.convert_to_tensor(received, tf.float32)
        z = received[:, : self.num_values]
        if training or self.resample == "none":
            return z
        if self.resample == "tx":
            std = std_from_received(received[:, self.num_values:], self.variance_form)
        else:
            std = tf.sqrt(self.kb_variance)[None, :]
        noise = tf.random.stateless_normal(tf.shape(z), seed) if seed is not None else tf.random.normal(tf.shape(z))
        return z + std * noise

    def call(self, received, training=False, seed=None):
        y = self.resampled(received, training, seed)
        x = tf.reshape(y, [-1, self.side, self.side, self.latent_channels])
        for i, layer in enumerate(self.body):
            x = keras.activations.silu(layer(x)) if i == len(self.body) - 1 else layer(x)
        return 0.5 * (tf.tanh(self.to_image(x)) + 1.0)  # [-1, 1] → [0, 1]

    def get_config(self):
        return {**super().get_config(), "channels": list(self.channels), "latent_channels": self.latent_channels,
                "mid_blocks": self.mid_blocks, "resample": self.resample, "image_size": self.image_size, "variance_form": self.variance_form}
