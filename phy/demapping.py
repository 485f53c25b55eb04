"""Demapping: Sionna's soft/hard demappers plus exact per-axis demappers for square constellations.

Soft LLRs ("app", "maxlog"), hard bit decisions and hard symbol decisions come straight from
Sionna (``Demapper``, ``SymbolDemapper``). :class:`SlicerDemapper` is the fast path for square
constellations whose labels separate per axis (Gray or natural QAM/PAM): it slices each axis
independently instead of computing distances to all M points, and reproduces Sionna's
``Demapper("maxlog", hard_out=True)`` bit for bit, ties included (a tie yields bit 0, as
Sionna's ``hard_decisions`` maps LLR 0 to 0).

:class:`AxisDemapper` computes the same soft LLRs as Sionna's ``Demapper("app" | "maxlog")`` for
such constellations one axis at a time: with complex Gaussian noise of variance N0, the likelihood
``exp(−|y − x|²/N0)`` of a point factors into an in-phase and a quadrature term, and a bit labels
one axis only, so the other axis's sum cancels from its LLR. An M-QAM symbol then costs 2·√M
distances instead of M (16-QAM: 8 instead of 16; 256-QAM: 32 instead of 256).

The slicer decides in float64, i.e. exactly for single-precision inputs. Sionna's distance
arithmetic in single precision rounds within about one ulp of a decision boundary, so there the
two may differ for roughly one symbol in a million; against Sionna's demapper in double
precision they agree bit for bit (``tests/test_demapping.py``).
"""
import numpy as np
import tensorflow as tf
from sionna.phy import Block
from sionna.phy.mapping import Constellation, Demapper, SymbolDemapper

from linksim.phy.constellations import axis_labels

__all__ = ["Demapper", "SymbolDemapper", "SlicerDemapper", "AxisDemapper", "slice_axis"]


def slice_axis(y, spacing, num_levels: int):
    """Nearest level on one PAM axis, with ties resolved both ways.

    Input
    -----
    y : [...], tf.float
        Coordinate on the axis. Level ``k`` sits at ``(2k - L + 1) * spacing``.

    Output
    ------
    low, high : [...], tf.int32
        Nearest level index; they differ only when ``y`` lies exactly on a decision boundary,
        where ``low`` is the level below and ``high`` the level above.
    """
    t = (y / spacing + num_levels) / 2
    top = num_levels - 1
    high = tf.clip_by_value(tf.cast(tf.floor(t), tf.int32), 0, top)
    low = tf.clip_by_value(tf.cast(tf.math.ceil(t), tf.int32) - 1, 0, top)
    return low, high


class SlicerDemapper(Block):
    r"""Hard decisions by per-axis slicing for separable square constellations.

    Parameters
    ----------
    constellation : sionna.phy.mapping.Constellation
        QAM or PAM constellation whose bit labels separate per axis (Sionna's Gray QAM/PAM, or
        :func:`linksim.phy.make_constellation` with ``labelling="natural"``). Checked in ``__init__``.
    output : "bits" | "indices"
        Hard bits in Sionna's order, or symbol indices (the integer of the bit label).
    precision : None | "single" | "double"
        As in Sionna.

    Input
    -----
    y : [..., n], tf.complex
        Received symbols (equalised).

    Output
    ------
    : [..., n * num_bits_per_symbol], tf.float
        Hard-decided bits (``output="bits"``), equal to Sionna's maxlog hard decisions.
    : [..., n], tf.int32
        Symbol indices (``output="indices"``).

    Note
    ----
    Cost is O(1) per symbol instead of O(M) for the distance-based demapper.
    """

    def __init__(self, *, constellation: Constellation, output: str = "bits", precision=None, **kwargs):
        super().__init__(precision=precision, **kwargs)
        if output not in ("bits", "indices"):
            raise ValueError(f"output must be 'bits' or 'indices', got {output!r}")
        self._output = output
        self._num_axes = 2 if constellation.constellation_type == "qam" or np.any(
            np.abs(constellation.points.numpy().imag) > 1e-6
        ) else 1
        labels, spacing = axis_labels(constellation, self._num_axes)
        self._num_bits = constellation.num_bits_per_symbol
        self._bits_per_axis = self._num_bits // self._num_axes
        self._num_levels = 2**self._bits_per_axis
        self._labels = tf.constant(labels, tf.int32)
        self._spacing = tf.constant(spacing, tf.float64)
        self._shifts = tf.range(self._bits_per_axis - 1, -1, -1, dtype=tf.int32)

    def _axis_label(self, coordinate):
        low, high = slice_axis(coordinate, self._spacing, self._num_levels)
        # At a tie the two labels differ in one bit, which Sionna's maxlog decides as 0.
        return tf.bitwise.bitwise_and(tf.gather(self._labels, low), tf.gather(self._labels, high))

    def call(self, y):
        # Slicing in float64 places single-precision inputs on the right side of every
        # (irrational) decision boundary, so the result is the exact nearest-level decision.
        y = tf.cast(y, tf.complex128)
        axes = [tf.math.real(y), tf.math.imag(y)][: self._num_axes]
        labels = [self._axis_label(a) for a in axes]  # each [..., n] int32
        # [..., n, bits_per_axis, num_axes]: bit j of axis a goes to position j*num_axes + a
        bits = tf.stack(
            [tf.bitwise.bitwise_and(tf.bitwise.right_shift(label[..., None], self._shifts), 1) for label in labels],
            axis=-1,
        )
        if self._output == "indices":
            bits = tf.reshape(bits, tf.concat([tf.shape(y), [self._num_bits]], 0))  # [..., n, nbits]
            weights = tf.bitwise.left_shift(1, tf.range(self._num_bits - 1, -1, -1, dtype=tf.int32))
            return tf.reduce_sum(bits * weights, axis=-1)
        out_shape = tf.concat([tf.shape(y)[:-1], [tf.shape(y)[-1] * self._num_bits]], 0)
        return tf.cast(tf.reshape(bits, out_shape), self.rdtype)  # [..., n * nbits]


class AxisDemapper(Block):
    r"""Soft demapping axis by axis for separable square constellations: Sionna's ``Demapper`` LLRs
    (``app`` or ``maxlog``) at 2·√M distances per symbol instead of M.

    Parameters
    ----------
    method : "app" | "maxlog"
    constellation : sionna.phy.mapping.Constellation
        As for :class:`SlicerDemapper` (checked in ``__init__``).
    precision : None | "single" | "double"

    Input
    -----
    y : [..., n], tf.complex
        Received symbols (equalised).
    no : scalar or [..., n] (or broadcastable), tf.float
        Noise variance per complex symbol.

    Output
    ------
    : [..., n * num_bits_per_symbol], tf.float — ``log p(b=1)/p(b=0)`` in Sionna's bit order
    """

    def __init__(self, method: str, *, constellation: Constellation, precision=None, **kwargs):
        super().__init__(precision=precision, **kwargs)
        if method not in ("app", "maxlog"):
            raise ValueError(f"method must be 'app' or 'maxlog', got {method!r}")
        self._method = method
        points = constellation.points.numpy()
        self._num_axes = 2 if constellation.constellation_type == "qam" or np.any(np.abs(points.imag) > 1e-6) else 1
        labels, spacing = axis_labels(constellation, self._num_axes)
        self._num_bits = constellation.num_bits_per_symbol
        bits_per_axis = self._num_bits // self._num_axes
        num_levels = 2**bits_per_axis
        self._levels = [float(v) for v in (2 * np.arange(num_levels) - num_levels + 1) * spacing]  # level k's coordinate
        ones = (labels[:, None] >> np.arange(bits_per_axis - 1, -1, -1)[None, :]) & 1  # [L, bits per axis], MSB first
        self._ones = [np.flatnonzero(ones[:, j]).tolist() for j in range(bits_per_axis)]  # levels where bit j is 1
        self._zeros = [np.flatnonzero(1 - ones[:, j]).tolist() for j in range(bits_per_axis)]

    def _combine(self, metrics):
        """log Σ exp (``app``) or max (``maxlog``) of a list of same-shape tensors, element by element."""
        top = metrics[0]
        for m in metrics[1:]:
            top = tf.maximum(top, m)
        if self._method == "maxlog":
            return top
        return top + tf.math.log(tf.add_n([tf.exp(m - top) for m in metrics]))

    def _axis_llrs(self, coordinate, no):
        """coordinate [..., n], no broadcastable → [..., n, bits per axis]. Unrolled over the √M levels,
        so that the whole computation is element-wise (XLA fuses it into one loop)."""
        metrics = [-tf.square(coordinate - level) / no for level in self._levels]  # L × [..., n]
        return tf.stack([self._combine([metrics[i] for i in one]) - self._combine([metrics[i] for i in zero])
                         for one, zero in zip(self._ones, self._zeros)], axis=-1)

    def call(self, y, no):
        y = tf.cast(y, self.cdtype)
        no = tf.cast(no, self.rdtype)
        if no.shape.rank and no.shape.rank < y.shape.rank:  # as Sionna: no broadcasts from the left
            no = tf.reshape(no, tf.concat([tf.shape(no), tf.ones([y.shape.rank - no.shape.rank], tf.int32)], 0))
        no = tf.broadcast_to(no, tf.shape(y)) if no.shape.rank else no
        axes = [tf.math.real(y), tf.math.imag(y)][: self._num_axes]
        llrs = tf.stack([self._axis_llrs(a, no) for a in axes], axis=-1)  # [..., n, bits per axis, axes]
        out_shape = tf.concat([tf.shape(y)[:-1], [tf.shape(y)[-1] * self._num_bits]], 0)
        return tf.reshape(llrs, out_shape)  # bit j of axis a at j·axes + a, as Sionna's labels
