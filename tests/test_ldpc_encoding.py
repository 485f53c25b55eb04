"""The quasi-cyclic 5G LDPC encoder against Sionna's LDPC5GEncoder: the same codewords bit for bit."""
import numpy as np
import pytest
import tensorflow as tf
from sionna.phy.fec.ldpc import LDPC5GEncoder

from linksim.phy.coding import BlockEncoder
from linksim.phy.ldpc_encoding import QCLDPC5GEncoder, encoding_plan

# (k, n, bits per symbol): BG2 rate 1/2 with and without the output interleaver, filler bits (k not a
# multiple of the lifting), a tiny lifting (Z = 2), a long extension (rate 0.21), BG1 at rates 0.8,
# 2/3 (64-QAM interleaver) and 1/2 with the largest k
CODES = [(1024, 2048, None), (1024, 2048, 4), (1000, 2000, None), (12, 40, None), (100, 300, 2), (500, 2400, None),
         (1024, 1280, None), (4000, 6000, 6), (8448, 16896, None)]


@pytest.mark.parametrize("k, n, bits_per_symbol", CODES)
def test_codewords_equal_sionnas_bit_for_bit(k, n, bits_per_symbol):
    sionna = LDPC5GEncoder(k, n, num_bits_per_symbol=bits_per_symbol)
    fast = QCLDPC5GEncoder(sionna)
    bits = tf.cast(tf.random.stateless_uniform([3, 7, k], (k, n), 0, 2, tf.int32), tf.float32)  # two batch axes
    expected = sionna(bits).numpy()
    assert np.array_equal(fast(bits).numpy(), expected)
    assert np.array_equal(tf.function(fast, jit_compile=True)(bits).numpy(), expected)


def test_a_stage_with_several_codewords_per_row_equals_sionnas():
    bits = tf.cast(tf.random.stateless_uniform([5, 3 * 128], (1, 2), 0, 2, tf.int32), tf.float32)
    reference = BlockEncoder("ldpc", 128, 256)(bits).numpy()
    assert np.array_equal(BlockEncoder("ldpc", 128, 256, implementation="fast")(bits).numpy(), reference)
    with pytest.raises(ValueError, match="'fast' for LDPC codes"):
        BlockEncoder("polar", 64, 128, implementation="fast")


def test_a_structure_without_the_5g_core_is_refused():
    core = [[(0, 1), (1, 0), (2, 0)], [(0, 2), (2, 0), (3, 0)], [(0, 3), (3, 0), (4, 0)], [(0, 4), (1, 0), (4, 0)]]
    with pytest.raises(ValueError, match="not a 5G base graph"):  # the four rows' sum leaves two parity blocks
        encoding_plan(core, 1, 5)
    five_g = [[(0, 1), (1, 3), (2, 0)], [(0, 2), (2, 0), (3, 0)], [(0, 3), (1, 5), (3, 0), (4, 0)], [(0, 4), (1, 3), (4, 0)],
              [(0, 6), (2, 1), (5, 0)]]
    plan = encoding_plan(five_g, 1, 6)
    assert [step[0] for step in plan] == [1, 2, 3, 4, 5] and plan[0][1] == 5  # the first parity block from the core's sum
