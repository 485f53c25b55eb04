"""Random bit sources."""
import tensorflow as tf
from sionna.phy import Block

__all__ = ["random_bits", "BinarySource"]


def random_bits(batch_size, num_bits: int, seed, dtype=tf.float32):
    """i.i.d. fair bits from stateless Philox, 32 per random word.

    Unpacking 32-bit words is far faster under XLA on CPU than drawing integers in [0, 2)
    one by one (about 70× here).

    Input
    -----
    batch_size : int or scalar tf.int32
    num_bits : int
        Bits per row (static).
    seed : [2] tf.int32

    Output
    ------
    [batch_size, num_bits], ``dtype``
    """
    num_words = -(-num_bits // 32)
    words = tf.random.stateless_uniform([batch_size, num_words], seed, minval=None, maxval=None, dtype=tf.uint32)
    words = tf.bitcast(words, tf.int32)
    bits = tf.bitwise.bitwise_and(tf.bitwise.right_shift(words[..., None], tf.range(32, dtype=tf.int32)), 1)
    bits = tf.reshape(bits, [batch_size, num_words * 32])[:, :num_bits]  # [batch, num_bits]
    return tf.cast(bits, dtype)


class BinarySource(Block):
    r"""Stateless counterpart of Sionna's ``BinarySource``.

    Input
    -----
    shape : [2], int
        ``[batch_size, num_bits]``.
    seed : [2], tf.int32

    Output
    ------
    [batch_size, num_bits], tf.float
    """

    def __init__(self, *, precision=None, **kwargs):
        super().__init__(precision=precision, **kwargs)

    def call(self, shape, seed):
        return random_bits(shape[0], int(shape[1]), seed, self.rdtype)
