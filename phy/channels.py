"""Channels: complex and real AWGN, Rayleigh block fading, BSC and a discrete label channel.

Randomness follows Sionna: with ``seed=None`` a block draws from Sionna's global generator
(``sionna.phy.config.tf_rng``, set by ``sionna.phy.config.seed``). With an explicit stateless
``seed`` (a ``[2]`` int32 tensor) the draw depends on that seed alone, which is how linksim's
Monte Carlo runner makes every chunk reproducible wherever it runs.
"""
import numpy as np
import tensorflow as tf
from sionna.phy import Block, config
from sionna.phy.channel import BinarySymmetricChannel

from linksim.phy.transitions import check_transition

__all__ = [
    "AWGN",
    "RealAWGN",
    "RayleighBlockFading",
    "BinarySymmetricChannel",
    "LabelChannel",
    "symmetric_transition",
    "draw_labels",
    "normal",
    "uniform",
    "complex_normal",
    "random_erasure",
]


def normal(shape, dtype, seed=None):
    """Standard normal samples: stateless Philox when ``seed`` is given, Sionna's RNG otherwise."""
    if seed is None:
        return config.tf_rng.normal(shape, dtype=dtype)
    return tf.random.stateless_normal(shape, seed=seed, dtype=dtype, alg="philox")


def uniform(shape, dtype, seed=None):
    """Uniform samples in [0, 1); stateless when ``seed`` is given."""
    if seed is None:
        return config.tf_rng.uniform(shape, dtype=dtype)
    return tf.random.stateless_uniform(shape, seed=seed, dtype=dtype, alg="philox")


def complex_normal(shape, seed):
    """Circularly-symmetric CN(0, 1) samples (variance ½ per real part) from a stateless seed.

    Input
    -----
    shape : [k], tf.int32 — the output shape
    seed : [2], tf.int32

    Output
    ------
    : ``shape``, tf.complex64
    """
    parts = tf.random.stateless_normal(tf.concat([[2], shape], 0), seed) * np.sqrt(0.5)  # [2, *shape]
    return tf.complex(parts[0], parts[1])


def _split(seed, n):
    return [None] * n if seed is None else tf.unstack(tf.random.split(seed, n))


class AWGN(Block):
    r"""Complex AWGN with noise variance ``no`` per complex symbol (``no/2`` per real dimension).

    Same contract as ``sionna.phy.channel.AWGN``, plus an optional stateless seed.

    Input
    -----
    x : [..., n], tf.complex
    no : scalar or broadcastable to ``x``, tf.float
        Noise variance per complex symbol, N0.
    seed : None or [2], tf.int32
        Stateless seed; ``None`` draws from Sionna's global generator.

    Output
    ------
    y : [..., n], tf.complex
    """

    def __init__(self, *, precision=None, **kwargs):
        super().__init__(precision=precision, **kwargs)

    def call(self, x, no, seed=None):
        x = tf.cast(x, self.cdtype)
        seed_re, seed_im = _split(seed, 2)
        std = tf.sqrt(tf.cast(no, self.rdtype) / 2)
        noise = tf.complex(normal(tf.shape(x), self.rdtype, seed_re), normal(tf.shape(x), self.rdtype, seed_im))
        return x + noise * tf.cast(std, self.cdtype)


class RealAWGN(Block):
    r"""Real-valued AWGN for analog latents: ``y = x + sqrt(no)·n``, ``n ~ N(0, 1)``.

    Input
    -----
    x : [..., n], tf.float
    no : scalar or broadcastable to ``x``, tf.float
        Noise variance per real sample (see :func:`linksim.phy.noise_variance` with ``snr``).
    seed : None or [2], tf.int32

    Output
    ------
    y : [..., n], tf.float
    """

    def __init__(self, *, precision=None, **kwargs):
        super().__init__(precision=precision, **kwargs)

    def call(self, x, no, seed=None):
        x = tf.cast(x, self.rdtype)
        return x + tf.sqrt(tf.cast(no, self.rdtype)) * normal(tf.shape(x), self.rdtype, seed)


class RayleighBlockFading(Block):
    r"""Rayleigh block fading with AWGN and perfect-CSI zero-forcing equalisation.

    Each run of ``block_length`` consecutive symbols along the last axis shares one
    ``h ~ CN(0, 1)``; the receiver knows ``h`` and returns ``y / h`` together with the
    per-symbol effective noise variance ``no / |h|²`` that a soft demapper needs.

    Parameters
    ----------
    block_length : int
        Symbols per coherence block; ``n`` must be a multiple of it.

    Input
    -----
    x : [..., n], tf.complex
    no : scalar, tf.float
        Noise variance per complex symbol.
    seed : None or [2], tf.int32

    Output
    ------
    x_hat : [..., n], tf.complex
        Equalised symbols.
    no_eff : [..., n], tf.float
        Effective noise variance after equalisation.
    """

    def __init__(self, *, block_length: int = 1, precision=None, **kwargs):
        super().__init__(precision=precision, **kwargs)
        if int(block_length) != block_length or block_length < 1:
            raise ValueError(f"block_length must be a positive integer, got {block_length!r}")
        self._block_length = int(block_length)
        self._awgn = AWGN(precision=precision)

    @property
    def block_length(self) -> int:
        return self._block_length

    def call(self, x, no, seed=None):
        x = tf.cast(x, self.cdtype)
        seed_h_re, seed_h_im, seed_noise = _split(seed, 3)
        shape = tf.shape(x)
        n = shape[-1]
        if x.shape[-1] is not None and x.shape[-1] % self._block_length:  # static: a clear error in graph and XLA too
            raise ValueError(f"the last axis ({x.shape[-1]} symbols) must be a multiple of block_length {self._block_length}")
        tf.debugging.assert_equal(n % self._block_length, 0, "n must be a multiple of block_length")
        block_shape = tf.concat([shape[:-1], [n // self._block_length, 1]], 0)
        std = tf.cast(tf.sqrt(0.5), self.rdtype)
        h = tf.complex(normal(block_shape, self.rdtype, seed_h_re), normal(block_shape, self.rdtype, seed_h_im))
        h = tf.reshape(tf.broadcast_to(h * tf.cast(std, self.cdtype), tf.concat([block_shape[:-1], [self._block_length]], 0)), shape)
        y = self._awgn(h * x, no, seed=seed_noise)
        no_eff = tf.cast(no, self.rdtype) / tf.square(tf.abs(h))
        return y / h, no_eff


def symmetric_transition(num_classes: int, error_probability):
    """T with T_kk = 1 − p and T_kj = p / (C − 1): every wrong label equally likely.

    ``error_probability``: a float or a scalar tensor (a per-point value inside a graph).
    Output: [C, C] tf.float32.
    """
    off = error_probability / (num_classes - 1)
    return (tf.fill([num_classes, num_classes], tf.cast(off, tf.float32))
            + tf.eye(num_classes) * tf.cast(1.0 - error_probability - off, tf.float32))


def draw_labels(labels, transition, seed):
    """Each label through the rows of a transition matrix (stateless categorical draws).

    Input
    -----
    labels : [...], tf.int — labels in ``[0, C)``
    transition : [C, C], tf.float32 — row k: P(output = j | input = k)
    seed : [2], tf.int32

    Output
    ------
    : [...], tf.int32
    """
    labels = tf.cast(labels, tf.int32)
    logits = tf.math.log(tf.maximum(tf.gather(transition, tf.reshape(labels, [-1])), 1e-30))  # [labels, C]
    received = tf.random.stateless_categorical(logits, 1, seed, dtype=tf.int32)[:, 0]
    return tf.reshape(received, tf.shape(labels))


class LabelChannel(Block):
    r"""Discrete memoryless channel over C labels with a transition matrix.

    ``transition[i, j] = P(output = j | input = i)``; each row must sum to 1.

    Parameters
    ----------
    transition : [C, C], array_like
        Row-stochastic transition matrix.

    Input
    -----
    labels : [...], tf.int
        Labels in ``[0, C)``.
    seed : None or [2], tf.int32

    Output
    ------
    : [...], same dtype as ``labels``
    """

    def __init__(self, *, transition, precision=None, **kwargs):
        super().__init__(precision=precision, **kwargs)
        self._transition = check_transition(transition)
        self._table = tf.constant(self._transition, tf.float32)

    @property
    def transition(self) -> np.ndarray:
        return self._transition

    @classmethod
    def symmetric(cls, num_classes: int, error_probability: float, **kwargs):
        """Each label turns into each of the other C-1 labels with probability ``p/(C-1)``."""
        if not 0 <= error_probability <= 1:
            raise ValueError(f"error_probability must be in [0, 1], got {error_probability!r}")
        if num_classes < 2:
            raise ValueError(f"num_classes must be at least 2, got {num_classes!r}")
        return cls(transition=symmetric_transition(num_classes, error_probability).numpy(), **kwargs)

    def call(self, labels, seed=None):
        if seed is None:
            seed = tf.cast(config.tf_rng.make_seeds(1)[:, 0], tf.int32)
        return tf.cast(draw_labels(labels, self._table, seed), labels.dtype)


def random_erasure(x, ratio, seed, value=0.0):
    """Replace each element of ``x`` independently with probability ``ratio`` by ``value`` (0: zero it);
    the kept elements pass unchanged, with gradient 1 (an erasure channel used as a training attack).

    Input
    -----
    x : [...], tf.float
    ratio : float in [0, 1)
    seed : [2], tf.int32
    value : float
        What an erased element becomes.

    Output
    ------
    : [...], same dtype as ``x``
    """
    keep = tf.cast(tf.random.stateless_uniform(tf.shape(x), seed) >= ratio, x.dtype)
    return x * keep + tf.cast(value, x.dtype) * (1 - keep)
