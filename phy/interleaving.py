"""A fixed random interleaver whose permutation is drawn once, outside any compiled step.

Sionna's ``RandomInterleaver`` (``keep_state=True``) draws its "fixed" permutation with a stateless
uniform draw inside the call. Traced into a graph that draw runs TensorFlow's CPU kernel (Philox);
compiled by XLA it runs XLA's own generator, which gives another permutation, so one scenario
measured other BLERs in graph and XLA mode. Here the same draw (Sionna's: the argsort of
``stateless_uniform([1, n], seed=(1337, seed), alg="philox")``) runs eagerly the first time a length
``n`` is seen and enters the graph as a constant: eager, graph and XLA apply the same permutation,
Sionna's own graph-mode one.
"""
import tensorflow as tf
from sionna.phy import Block

__all__ = ["FixedInterleaver"]


class FixedInterleaver(Block):
    r"""Permutes the last axis by a fixed pseudo-random permutation of ``seed`` (or undoes it).

    Parameters
    ----------
    seed : int
        The permutation's seed; an interleaver and its inverse use the same one.
    inverse : bool
        Apply the inverse permutation.

    Input
    -----
    x : [..., n], any dtype

    Output
    ------
    : [..., n], same dtype

    Note
    ----
    The permutation equals that of Sionna's ``RandomInterleaver(seed=seed, keep_state=True,
    keep_batch_constant=True)`` run eagerly (tests/test_coding.py).
    """

    def __init__(self, *, seed: int, inverse: bool = False, precision=None, **kwargs):
        super().__init__(precision=precision, **kwargs)
        if not isinstance(seed, int) or not 0 <= seed < 2**31:
            raise ValueError(f"seed must be an int in [0, 2^31), got {seed!r}")
        self._seed, self._inverse = seed, bool(inverse)
        self._orders = {}  # n -> [n] int32 constant

    def permutation(self, n: int):
        """The index order applied to a last axis of length ``n``: [n] tf.int32, computed eagerly once."""
        if n not in self._orders:
            with tf.init_scope():  # eager even while a tf.function traces
                draw = tf.random.stateless_uniform([1, n], (1337, self._seed), minval=0, maxval=1, dtype=tf.float32, alg="philox")
                order = tf.argsort(draw, axis=-1)[0]
                if self._inverse:
                    order = tf.argsort(order)
                self._orders[n] = tf.constant(order.numpy(), tf.int32)
        return self._orders[n]

    def call(self, x):
        n = x.shape[-1]
        if n is None:
            raise ValueError("the interleaved axis (the last) must have a static length")
        return tf.gather(x, self.permutation(int(n)), axis=-1)
