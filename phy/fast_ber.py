"""Fast Monte Carlo bit-error counting for uncoded square constellations over AWGN.

The stock chain (``Mapper`` → ``AWGN`` → ``Demapper(maxlog, hard_out)`` → ``compute_ber``)
materialises one float per bit and computes M distances per symbol. Here, for a constellation
whose labels separate per axis, every axis is simulated as an L-PAM in integers: the random
bits of one axis are drawn packed as an integer label (uniform on ``[0, L)``, i.e. ``log2 L``
i.i.d. fair bits), mapped to its level by a table, Gaussian noise is added, the received value
is sliced (:func:`linksim.phy.demapping.slice_axis`, the same decision rule as
:class:`~linksim.phy.demapping.SlicerDemapper`) and the bit errors are the popcount of the XOR of the
sent and decided labels. The whole step is one XLA program, and Gaussian noise generation
(stateless Philox) dominates its cost, so large batches are used.
"""
import numpy as np
import tensorflow as tf

from linksim.phy.constellations import axis_labels, make_constellation, modulation_info
from linksim.phy.demapping import slice_axis

__all__ = ["HardDecisionBERCounter"]


class HardDecisionBERCounter:
    r"""Counts bit errors of uncoded hard-decision detection over complex AWGN.

    Parameters
    ----------
    modulation : str
        Any square modulation of :data:`phy.MODULATIONS`.
    labelling : "gray" | "natural"
    num_symbols : int
        Symbols per call; at least a few million for full speed (noise generation is only
        efficient on large calls).

    Input (``__call__``)
    --------------------
    no : scalar, tf.float32
        Noise variance per complex symbol, N0 (unit-energy constellation).
    seed : [2], tf.int32
        Stateless seed of this batch.

    Output
    ------
    bit_errors : scalar, tf.int64
    num_bits : int
        ``num_symbols · bits_per_symbol`` (a Python int).
    """

    def __init__(self, modulation: str, *, labelling: str = "gray", num_symbols: int = 2**22):
        info = modulation_info(modulation)
        if int(num_symbols) != num_symbols or num_symbols < 1:
            raise ValueError(f"num_symbols must be a positive integer, got {num_symbols!r}")
        labels, spacing = axis_labels(make_constellation(modulation, labelling=labelling), info.num_axes)
        self.modulation = modulation
        self.num_symbols = int(num_symbols)
        self.num_bits = self.num_symbols * info.num_bits_per_symbol
        self._num_axes = info.num_axes
        self._num_levels = len(labels)
        self._labels = tf.constant(labels, tf.int32)
        self._level_of_label = tf.constant(np.argsort(labels), tf.int32)
        self._spacing = tf.constant(spacing, tf.float32)
        self._step = tf.function(self._count, jit_compile=True, reduce_retracing=True)

    def _count(self, no, seed):
        seed_bits, seed_noise = tf.unstack(tf.random.split(seed, 2))
        shape = [self._num_axes, self.num_symbols]
        words = tf.random.stateless_uniform(shape, seed=seed_bits, minval=None, maxval=None, dtype=tf.uint32, alg="philox")
        sent = tf.bitwise.bitwise_and(tf.bitcast(words, tf.int32), self._num_levels - 1)  # packed bits
        level = tf.gather(self._level_of_label, sent)
        amplitude = tf.cast(2 * level - (self._num_levels - 1), tf.float32) * self._spacing
        noise = tf.random.stateless_normal(shape, seed=seed_noise, alg="philox")
        received = amplitude + tf.sqrt(no / 2) * noise
        _, decided = slice_axis(received, self._spacing, self._num_levels)
        wrong = tf.bitwise.bitwise_xor(sent, tf.gather(self._labels, decided))
        return tf.reduce_sum(tf.cast(tf.raw_ops.PopulationCount(x=wrong), tf.int64))

    def __call__(self, no, seed):
        errors = self._step(tf.constant(no, tf.float32), tf.constant(seed, tf.int32))
        return errors, self.num_bits
