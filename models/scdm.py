"""SCDM: a score network on received symbol sequences and the denoiser layer built on it.

``ScoreUNet`` estimates the Wirtinger score ``∂ log p_σ(z)/∂z̄`` of a complex symbol sequence at
noise level σ (real and imaginary parts as two channels of a 1-D U-Net). As the paper describes:
3 down blocks, a bottleneck, 3 up blocks, each block a residual block followed by a Transformer
block (self-attention and an MLP), the bottleneck residual–Transformer–residual. σ enters as
Gaussian Fourier features of log σ added inside every residual block (score_sde's NCSN++); the
input is scaled by ``1/√(1 + σ²)`` and the output divided by σ (NCSN++'s ``scale_by_sigma``), so
the network predicts ``−ε`` at every level.

``SCDMDenoiser`` wraps the network with the VE schedule: ``call`` runs the predictor-corrector
sampler from the level matching the channel noise, and ``dsm_loss`` is the denoising score
matching objective of Algorithm 1.
"""
import keras
import numpy as np
import tensorflow as tf

from linksim.models.diffusion import CORRECTOR_STEPS, VESchedule, pc_sample
from linksim.phy.channels import complex_normal

__all__ = ["ScoreUNet", "SCDMDenoiser", "HistogramPosteriorMean"]


class _ResBlock(keras.layers.Layer):
    """GroupNorm → swish → conv → + σ embedding → GroupNorm → swish → conv, plus the skip."""

    def __init__(self, channels, **kwargs):
        super().__init__(**kwargs)
        self.channels = channels

    def build(self, input_shape):
        groups = min(8, self.channels)
        self.norm1 = keras.layers.GroupNormalization(min(8, input_shape[-1]))
        self.conv1 = keras.layers.Conv1D(self.channels, 3, padding="same")
        self.emb = keras.layers.Dense(self.channels)
        self.norm2 = keras.layers.GroupNormalization(groups)
        self.conv2 = keras.layers.Conv1D(self.channels, 3, padding="same")
        self.skip = keras.layers.Conv1D(self.channels, 1) if input_shape[-1] != self.channels else None

    def call(self, x, emb):
        h = self.conv1(tf.nn.silu(self.norm1(x)))
        h = h + self.emb(emb)[:, None, :]
        h = self.conv2(tf.nn.silu(self.norm2(h)))
        return (x if self.skip is None else self.skip(x)) + h


class _TransformerBlock(keras.layers.Layer):
    """Pre-norm self-attention over the sequence and a 2× MLP, both residual."""

    def __init__(self, channels, heads, **kwargs):
        super().__init__(**kwargs)
        self.channels, self.heads = channels, heads

    def build(self, input_shape):
        self.norm1 = keras.layers.LayerNormalization()
        self.attention = keras.layers.MultiHeadAttention(self.heads, max(self.channels // self.heads, 1))
        self.norm2 = keras.layers.LayerNormalization()
        self.mlp = [keras.layers.Dense(2 * self.channels, activation="gelu"), keras.layers.Dense(self.channels)]

    def call(self, x):
        h = self.norm1(x)
        x = x + self.attention(h, h)
        return x + self.mlp[1](self.mlp[0](self.norm2(x)))


@keras.saving.register_keras_serializable(package="linksim")
class ScoreUNet(keras.layers.Layer):
    """σ-conditioned 1-D U-Net score model on complex sequences.

    Parameters
    ----------
    channels : sequence of 3 ints
        Widths of the three resolution levels (the bottleneck uses the last).
    heads : int
        Attention heads.
    embedding : int
        Size of the σ embedding.

    Input
    -----
    z : [batch, n], complex64 — n a multiple of 8
    sigma : scalar or [batch], float32 — noise std of ``z``

    Output
    ------
    : [batch, n], complex64 — the score estimate
    """

    def __init__(self, channels=(32, 64, 64), heads: int = 4, embedding: int = 64, **kwargs):
        super().__init__(**kwargs)
        channels = tuple(int(c) for c in channels)
        if len(channels) != 3 or min(channels) < 1:
            raise ValueError(f"channels must be 3 positive widths, got {channels!r}")
        for name, value in (("heads", heads), ("embedding", embedding)):
            if int(value) != value or value < 1:
                raise ValueError(f"{name} must be a positive integer, got {value!r}")
        if embedding % 2:
            raise ValueError(f"embedding must be even, got {embedding}")
        self.channels, self.heads, self.embedding = channels, int(heads), int(embedding)
        self.frequencies = tf.constant(np.geomspace(0.05, 8.0, embedding // 2), tf.float32)  # cycles per unit log σ

    def build(self, input_shape):
        c1, c2, c3 = self.channels
        self.emb = [keras.layers.Dense(2 * self.embedding, activation="silu"), keras.layers.Dense(self.embedding)]
        self.stem = keras.layers.Conv1D(c1, 3, padding="same")
        self.down = [(_ResBlock(c), _TransformerBlock(c, self.heads), keras.layers.Conv1D(c, 3, strides=2, padding="same"))
                     for c in (c1, c2, c3)]
        self.middle = (_ResBlock(c3), _TransformerBlock(c3, self.heads), _ResBlock(c3))
        self.up = [(keras.layers.UpSampling1D(2), keras.layers.Conv1D(c, 3, padding="same"), _ResBlock(c), _TransformerBlock(c, self.heads))
                   for c in (c3, c2, c1)]
        self.out_norm = keras.layers.GroupNormalization(min(8, c1))
        self.out = keras.layers.Conv1D(2, 3, padding="same", kernel_initializer="zeros")

    def call(self, z, sigma):
        z = tf.convert_to_tensor(z, tf.complex64)
        batch = tf.shape(z)[0]
        sigma = tf.broadcast_to(tf.cast(sigma, tf.float32), [batch])  # [batch]
        angles = 2 * np.pi * tf.math.log(sigma)[:, None] * self.frequencies[None, :]  # [batch, E/2]
        emb = self.emb[1](self.emb[0](tf.concat([tf.sin(angles), tf.cos(angles)], -1)))  # [batch, E]
        scale = tf.math.rsqrt(1.0 + tf.square(sigma))[:, None, None]
        x = self.stem(tf.stack([tf.math.real(z), tf.math.imag(z)], axis=-1) * scale)  # [batch, n, c1]
        skips = []
        for res, attention, downsample in self.down:
            x = attention(res(x, emb))
            skips.append(x)
            x = downsample(x)  # halves n
        x = self.middle[2](self.middle[1](self.middle[0](x, emb)), emb)
        for (upsample, conv, res, attention), skip in zip(self.up, reversed(skips)):
            x = conv(upsample(x))
            x = attention(res(tf.concat([x, skip], -1), emb))
        x = self.out(tf.nn.silu(self.out_norm(x))) / sigma[:, None, None]  # [batch, n, 2]
        return tf.complex(x[..., 0], x[..., 1])

    def get_config(self):
        return {**super().get_config(), "channels": list(self.channels), "heads": self.heads, "embedding": self.embedding}


@keras.saving.register_keras_serializable(package="linksim")
class SCDMDenoiser(keras.layers.Layer):
    """Score-based channel denoiser of received symbols (SCDM, Algorithms 1 and 2).

    Parameters
    ----------
    channels, heads, embedding
        Of the :class:`ScoreUNet`.
    sigma_min, sigma_max : float
        VE schedule range (the paper does not state it; see :mod:`linksim.models.diffusion`).
    num_levels : int
        N (SCDM: 64).
    num_corrector : int
        Langevin steps L per level (SCDM: 2).
    r : float
        Corrector step ratio (SCDM: 0.16).
    final_denoise : bool
        End with Tweedie's noise-free step at σ_0 (score_sde's sampler; not in SCDM's Algorithm 2).
    corrector_step : str
        ``"algorithm2"`` (SCDM's Algorithm 2) or ``"score_sde"`` (see :func:`~linksim.models.diffusion.pc_sample`).
    corrector_min_sigma : float
        Corrector steps only at levels with σ at least this (0: every level).

    Input
    -----
    received : [batch, n], complex64 — unit-power symbols plus CN(0, N0) noise
    no : scalar float32 — N0; the sampler starts at the level whose σ is nearest to √N0
    seed : [2] int32 — sampler noise

    Output
    ------
    : [batch, n], complex64 — denoised symbols (no gradient flows back through the sampler)
    """

    def __init__(self, channels=(32, 64, 64), heads: int = 4, embedding: int = 64, sigma_min: float = 0.01,
                 sigma_max: float = 10.0, num_levels: int = 64, num_corrector: int = 2, r: float = 0.16,
                 final_denoise: bool = False, corrector_step: str = "algorithm2", corrector_min_sigma: float = 0.0, **kwargs):
        super().__init__(**kwargs)
        self.schedule = VESchedule(sigma_min, sigma_max, num_levels)
        if corrector_step not in CORRECTOR_STEPS:
            raise ValueError(f"corrector_step must be one of {', '.join(CORRECTOR_STEPS)}, got {corrector_step!r}")
        if not corrector_min_sigma >= 0:
            raise ValueError(f"corrector_min_sigma must be ≥ 0, got {corrector_min_sigma!r}")
        self.corrector_step, self.corrector_min_sigma = corrector_step, float(corrector_min_sigma)
        if int(num_corrector) != num_corrector or num_corrector < 0:
            raise ValueError(f"num_corrector must be a non-negative integer, got {num_corrector!r}")
        if not r > 0:
            raise ValueError(f"r must be positive, got {r!r}")
        self.num_corrector, self.r, self.final_denoise = int(num_corrector), float(r), bool(final_denoise)
        self.score = ScoreUNet(channels, heads, embedding)

    def build(self, input_shape):
        """Creates the score network's weights with one call, so that they exist even when the
        first call's sampler runs no level (a noiseless first call)."""
        self.score(tf.zeros([1, input_shape[-1]], tf.complex64), tf.constant(1.0))

    def start_level(self, no):
        """``N_snr`` as a scalar int32 tensor (TF twin of :meth:`VESchedule.level_for_noise`)."""
        s = self.schedule
        position = tf.math.log(tf.sqrt(tf.cast(no, tf.float32)) / s.sigma_min) / np.log(s.sigma_max / s.sigma_min) * (s.num_levels - 1)
        return tf.clip_by_value(tf.cast(tf.round(position), tf.int32), 0, s.num_levels - 1)

    def call(self, received, no, seed=None):
        seed = tf.constant([0, 0]) if seed is None else seed
        z = pc_sample(self.score, tf.stop_gradient(received), self.schedule, self.start_level(no),
                      num_corrector=self.num_corrector, r=self.r, seed=seed, final_denoise=self.final_denoise,
                      corrector_step=self.corrector_step, corrector_min_sigma=self.corrector_min_sigma)
        return tf.stop_gradient(z)

    def dsm_loss(self, clean, seed):
        """Denoising score matching at uniformly drawn levels (Algorithm 1).

        ``z = z0 + σ_i ε`` with ``ε ~ CN(0, I)``; the target score is ``−ε/σ_i``, and the loss
        ``mean |σ_i s(z, σ_i) + ε|²`` is the σ²-weighted objective of score_sde.

        Input
        -----
        clean : [batch, n], complex64 — z0
        seed : [2] int32

        Output
        ------
        : scalar float32
        """
        clean = tf.convert_to_tensor(clean, tf.complex64)
        level_seed, noise_seed = tf.unstack(tf.random.split(tf.cast(seed, tf.int32), 2))
        batch = tf.shape(clean)[0]
        level = tf.random.stateless_uniform([batch], level_seed, 0, self.schedule.num_levels, tf.int32)
        sigma = tf.gather(tf.constant(self.schedule.sigmas, tf.float32), level)  # [batch]
        eps = complex_normal(tf.shape(clean), noise_seed)
        noisy = clean + tf.cast(sigma[:, None], tf.complex64) * eps
        residual = tf.cast(sigma[:, None], tf.complex64) * self.score(noisy, sigma) + eps
        return tf.reduce_mean(tf.square(tf.abs(residual)))

    def get_config(self):
        s = self.schedule
        return {**super().get_config(), "channels": list(self.score.channels), "heads": self.score.heads,
                "embedding": self.score.embedding, "sigma_min": s.sigma_min, "sigma_max": s.sigma_max,
                "num_levels": s.num_levels, "num_corrector": self.num_corrector, "r": self.r, "final_denoise": self.final_denoise,
                "corrector_step": self.corrector_step, "corrector_min_sigma": self.corrector_min_sigma}


@keras.saving.register_keras_serializable(package="linksim")
class HistogramPosteriorMean(keras.layers.Layer):
    """The posterior mean of sent constellation points under their empirical distribution: no network.

    The prior is a histogram over the M points of the constellation (one for all channel uses, or
    one per use with ``per_position``), counted from the symbols an encoder sends on the training
    samples (:meth:`accumulate`, each symbol binned to its nearest point); the estimate of a
    received y is Σ_k π_k N(y; c_k, N0) c_k / Σ_k π_k N(y; c_k, N0). It is the MMSE estimator of
    SCDM's symbols if the encoder's power normalisation is left aside, and so the yardstick for what
    a score model learns beyond the symbol statistics.

    Input
    -----
    received : [batch, n] complex64
    no : scalar float32 — N0 per complex symbol

    Output
    ------
    : [batch, n] complex64
    """

    def __init__(self, modulation: str = "qam64", num_symbols: int = 128, per_position: bool = False, **kwargs):
        super().__init__(**kwargs)
        from linksim.phy.constellations import make_constellation

        self.modulation, self.num_symbols, self.per_position = modulation, int(num_symbols), bool(per_position)
        self.points = tf.constant(make_constellation(modulation).points.numpy(), tf.complex64)  # [M]

    def build(self, input_shape):
        rows = self.num_symbols if self.per_position else 1
        self.counts = self.add_weight(name="counts", shape=(rows, int(self.points.shape[0])), initializer="ones", trainable=False)

    def accumulate(self, symbols):
        """Add the nearest points of sent symbols [batch, n] to the histogram."""
        nearest = tf.argmin(tf.abs(tf.cast(symbols, tf.complex64)[..., None] - self.points), axis=-1)  # [batch, n]
        one_hot = tf.one_hot(nearest, int(self.points.shape[0]))  # [batch, n, M]
        totals = tf.reduce_sum(one_hot, 0) if self.per_position else tf.reduce_sum(one_hot, [0, 1])[None]
        self.counts.assign_add(totals)

    def reset(self):
        """Empty the histogram (``build`` starts every count at one, so an unused point keeps a small prior)."""
        self.counts.assign(tf.zeros_like(self.counts))

    def call(self, received, no):
        log_prior = tf.math.log(tf.maximum(self.counts / tf.reduce_sum(self.counts, -1, keepdims=True), 1e-30))  # [rows, M]
        distance = tf.square(tf.abs(tf.cast(received, tf.complex64)[..., None] - self.points))  # [batch, n, M]
        weights = tf.nn.softmax(log_prior[None] - distance / tf.cast(no, tf.float32), axis=-1)
        return tf.reduce_sum(tf.cast(weights, tf.complex64) * self.points, -1)

    def get_config(self):
        return {**super().get_config(), "modulation": self.modulation, "num_symbols": self.num_symbols, "per_position": self.per_position}
