"""Scalar quantization, AD/DA bit conversion, padding and training surrogates.

``UniformQuantizer`` clips a real value to ``[minval, maxval]`` and rounds it to one of
``2**num_bits`` equally spaced levels (both ends included); ``IntegerToBits`` (AD) writes the
level index as ``num_bits`` bits, MSB first, in natural binary or Gray code, and
``BitsToInteger`` (DA) reads them back. The two surrogates used to train through the quantizer
are the straight-through estimator (forward: round, backward: identity) and additive noise
("soft quantization": uniform noise of one step, or Gaussian noise of a given std).
"""
import tensorflow as tf
from sionna.phy import Block

from linksim.phy.channels import normal, uniform

__all__ = [
    "UniformQuantizer",
    "IntegerToBits",
    "BitsToInteger",
    "pad_to_multiple",
    "straight_through_round",
    "SoftQuantizationNoise",
]


class UniformQuantizer(Block):
    r"""Uniform scalar quantizer with ``2**num_bits`` levels spanning ``[minval, maxval]``.

    Parameters
    ----------
    num_bits : int
        Bits per value, 1 to 16.
    minval, maxval : float
        Range; values outside are clipped to it.
    output : "index" | "value"
        Integer level index in ``[0, 2**num_bits)``, or the reconstructed level value.

    Input
    -----
    x : [...], tf.float

    Output
    ------
    : [...], tf.int32 (``index``) or tf.float (``value``)

    Note
    ----
    The reconstruction error of an in-range value is at most half a step,
    ``(maxval - minval) / (2 (2**num_bits - 1))``. Use :meth:`dequantize` to map indices back.
    """

    def __init__(self, *, num_bits: int, minval: float = 0.0, maxval: float = 1.0, output: str = "index", precision=None, **kwargs):
        super().__init__(precision=precision, **kwargs)
        if int(num_bits) != num_bits or not 1 <= num_bits <= 16:
            raise ValueError(f"num_bits must be an integer in [1, 16], got {num_bits!r}")
        if not maxval > minval:
            raise ValueError(f"maxval must be greater than minval, got [{minval}, {maxval}]")
        if output not in ("index", "value"):
            raise ValueError(f"output must be 'index' or 'value', got {output!r}")
        self._num_bits = int(num_bits)
        self._minval, self._maxval = float(minval), float(maxval)
        self._output = output

    @property
    def num_levels(self) -> int:
        return 2**self._num_bits

    @property
    def step(self) -> float:
        return (self._maxval - self._minval) / (self.num_levels - 1)

    def call(self, x):
        x = tf.clip_by_value(tf.cast(x, self.rdtype), self._minval, self._maxval)
        index = tf.cast(tf.round((x - self._minval) / self.step), tf.int32)
        return index if self._output == "index" else self.dequantize(index)

    def dequantize(self, index):
        """Level value of integer indices: ``minval + index * step``."""
        return self._minval + tf.cast(index, self.rdtype) * self.step


def _gray(n):
    return tf.bitwise.bitwise_xor(n, tf.bitwise.right_shift(n, 1))


def _inverse_gray(g, num_bits):
    n = g
    shift = 1
    while shift < num_bits:
        n = tf.bitwise.bitwise_xor(n, tf.bitwise.right_shift(n, shift))
        shift *= 2
    return n


class IntegerToBits(Block):
    r"""AD conversion: integers in ``[0, 2**num_bits)`` to ``num_bits`` bits each, MSB first.

    Parameters
    ----------
    num_bits : int
    code : "natural" | "gray"
        Natural binary, or the reflected Gray code of the integer.

    Input
    -----
    x : [..., n], tf.int

    Output
    ------
    : [..., n * num_bits], tf.float (the block's real dtype, like Sionna's bits)
    """

    def __init__(self, *, num_bits: int, code: str = "natural", precision=None, **kwargs):
        super().__init__(precision=precision, **kwargs)
        _check_bits_and_code(num_bits, code)
        self._num_bits, self._code = int(num_bits), code
        self._shifts = tf.range(self._num_bits - 1, -1, -1, dtype=tf.int32)

    def call(self, x):
        x = tf.cast(x, tf.int32)
        if self._code == "gray":
            x = _gray(x)
        bits = tf.bitwise.bitwise_and(tf.bitwise.right_shift(x[..., None], self._shifts), 1)  # [..., n, b]
        out_shape = tf.concat([tf.shape(x)[:-1], [tf.shape(x)[-1] * self._num_bits]], 0)
        return tf.cast(tf.reshape(bits, out_shape), self.rdtype)  # [..., n*b]


class BitsToInteger(Block):
    r"""DA conversion: groups of ``num_bits`` bits (MSB first) back to integers.

    Input
    -----
    bits : [..., n * num_bits], tf.float or tf.int with values in {0, 1}

    Output
    ------
    : [..., n], tf.int32
    """

    def __init__(self, *, num_bits: int, code: str = "natural", precision=None, **kwargs):
        super().__init__(precision=precision, **kwargs)
        _check_bits_and_code(num_bits, code)
        self._num_bits, self._code = int(num_bits), code
        self._weights = tf.bitwise.left_shift(1, tf.range(self._num_bits - 1, -1, -1, dtype=tf.int32))

    def call(self, bits):
        bits = tf.cast(bits, tf.int32)
        shape = tf.shape(bits)
        grouped = tf.reshape(bits, tf.concat([shape[:-1], [shape[-1] // self._num_bits, self._num_bits]], 0))
        x = tf.reduce_sum(grouped * self._weights, axis=-1)  # [..., n]
        return _inverse_gray(x, self._num_bits) if self._code == "gray" else x


def _check_bits_and_code(num_bits, code):
    if int(num_bits) != num_bits or not 1 <= num_bits <= 30:
        raise ValueError(f"num_bits must be an integer in [1, 30], got {num_bits!r}")
    if code not in ("natural", "gray"):
        raise ValueError(f"code must be 'natural' or 'gray', got {code!r}")


def pad_to_multiple(x, multiple: int, value=0):
    """Pad the last axis of ``x`` to a multiple of ``multiple`` (e.g. bits to whole symbols).

    Output
    ------
    padded : [..., ceil(n / multiple) * multiple]
    num_pad : int
        Entries appended; drop them after the receiver with ``padded[..., :n]``.
    """
    x = tf.convert_to_tensor(x)
    n = x.shape[-1]
    if n is None:
        raise ValueError("the last axis must have a static size")
    num_pad = (-n) % multiple
    paddings = [[0, 0]] * (len(x.shape) - 1) + [[0, num_pad]]
    return tf.pad(x, paddings, constant_values=value), num_pad


@tf.custom_gradient
def straight_through_round(x):
    """Round in the forward pass, identity gradient in the backward pass."""
    return tf.round(x), lambda upstream: upstream


class SoftQuantizationNoise(Block):
    r"""Differentiable stand-in for quantization during training: additive noise.

    Parameters
    ----------
    kind : "uniform" | "gaussian"
        ``uniform`` adds U(-step/2, step/2) (the classic rounding-noise model); ``gaussian`` adds
        N(0, alpha²) (the "soft" quantization of learned digital codecs, alpha = 0.5 on the integer scale).
    step : float
        Quantization step for ``uniform``.
    alpha : float
        Noise std for ``gaussian``.

    Input
    -----
    x : [...], tf.float
    training : bool
        Noise is added only when ``True``; otherwise ``x`` is rounded to the quantizer grid
        (multiples of ``step`` for ``uniform``, integers for ``gaussian``).
    seed : None or [2], tf.int32

    Output
    ------
    : [...], tf.float
    """

    def __init__(self, *, kind: str = "uniform", step: float = 1.0, alpha: float = 0.5, precision=None, **kwargs):
        super().__init__(precision=precision, **kwargs)
        if kind not in ("uniform", "gaussian"):
            raise ValueError(f"kind must be 'uniform' or 'gaussian', got {kind!r}")
        if not step > 0 or not alpha > 0:
            raise ValueError(f"step and alpha must be positive, got step={step!r}, alpha={alpha!r}")
        self._kind, self._step, self._alpha = kind, float(step), float(alpha)

    def call(self, x, training=False, seed=None):
        x = tf.cast(x, self.rdtype)
        grid = self._step if self._kind == "uniform" else 1.0
        if not training:
            return tf.round(x / grid) * grid
        if self._kind == "uniform":
            return x + (uniform(tf.shape(x), self.rdtype, seed) - 0.5) * self._step
        return x + self._alpha * normal(tf.shape(x), self.rdtype, seed)
