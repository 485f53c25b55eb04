"""Noise statistics, fading, BSC and label channel frequencies."""
import numpy as np
import pytest
import tensorflow as tf
from scipy import stats

from linksim.phy.channels import AWGN, BinarySymmetricChannel, LabelChannel, RayleighBlockFading, RealAWGN
from tests.conftest import assert_in_binomial_interval

SEED = tf.constant([4, 2])


def _variance_interval(samples, variance, confidence=0.999):
    n = samples.size
    lo, hi = stats.chi2.ppf([(1 - confidence) / 2, (1 + confidence) / 2], n) / n
    measured = np.mean(samples**2)
    assert variance * lo <= measured <= variance * hi, (measured, variance)


def test_complex_awgn_has_variance_no_split_over_real_and_imaginary_parts():
    no = 0.37
    y = AWGN()(tf.zeros([1_000_000], tf.complex64), no, seed=SEED).numpy()
    _variance_interval(y.real.astype(np.float64), no / 2)
    _variance_interval(y.imag.astype(np.float64), no / 2)
    assert abs(np.mean(y.real)) < 5 * np.sqrt(no / 2 / y.size)
    assert abs(np.corrcoef(y.real, y.imag)[0, 1]) < 5 / np.sqrt(y.size)


def test_real_awgn_variance_and_stateless_reproducibility():
    no = 2.5
    x = tf.zeros([500_000])
    y = RealAWGN()(x, no, seed=SEED).numpy()
    _variance_interval(y.astype(np.float64), no)
    assert np.array_equal(y, RealAWGN()(x, no, seed=SEED).numpy())
    assert not np.array_equal(y, RealAWGN()(x, no, seed=SEED + 1).numpy())


def test_awgn_without_seed_follows_sionnas_global_seed():
    import sionna.phy

    sionna.phy.config.seed = 3
    a = AWGN()(tf.zeros([10], tf.complex64), 1.0).numpy()
    sionna.phy.config.seed = 3
    b = AWGN()(tf.zeros([10], tf.complex64), 1.0).numpy()
    assert np.array_equal(a, b)


def test_rayleigh_block_fading_equalises_perfectly_and_has_unit_gain():
    channel = RayleighBlockFading(block_length=8)
    x = tf.complex(tf.ones([4000, 64]), tf.zeros([4000, 64]))
    y, no_eff = channel(x, 0.0, seed=SEED)
    np.testing.assert_allclose(y.numpy(), x.numpy(), atol=1e-4)  # zero noise: equalisation undoes h
    assert np.all(no_eff.numpy() == 0)  # no_eff = no/|h|² with no = 0
    y, no_eff = channel(x, 1.0, seed=SEED)
    inv_gain = no_eff.numpy().reshape(4000, 8, 8)
    assert np.all(inv_gain == inv_gain[:, :, :1])  # |h| constant over each block of 8
    h2 = 1 / inv_gain[:, :, 0].ravel()
    _variance_interval(np.sqrt(h2), 1.0)  # E|h|² = 1
    assert stats.kstest(h2, "expon").pvalue > 1e-3  # |h|² ~ Exp(1) for Rayleigh


def test_sionna_bsc_flip_rate():
    import sionna.phy

    sionna.phy.config.seed = 5
    x = tf.zeros([400_000])
    y = BinarySymmetricChannel()(x, 0.0125).numpy()
    assert_in_binomial_interval(int(y.sum()), y.size, 0.0125)


def test_label_channel_frequencies_match_the_transition_matrix():
    t = np.array([[0.9, 0.05, 0.05], [0.1, 0.7, 0.2], [0.0, 0.3, 0.7]])
    channel = LabelChannel(transition=t)
    labels = tf.constant(np.repeat(np.arange(3), 100_000), tf.int32)
    out = channel(labels, seed=SEED).numpy().reshape(3, -1)
    for i in range(3):
        for j in range(3):
            assert_in_binomial_interval(int(np.sum(out[i] == j)), out.shape[1], t[i, j])


def test_label_channel_symmetric_and_validation():
    channel = LabelChannel.symmetric(4, 0.3)
    np.testing.assert_allclose(channel.transition.sum(axis=1), 1)
    assert channel.transition[0, 0] == pytest.approx(0.7) and channel.transition[0, 1] == pytest.approx(0.1)
    with pytest.raises(ValueError, match="row 0 of the transition matrix sums to 0.9, not 1"):
        LabelChannel(transition=[[0.5, 0.4], [0.5, 0.5]])
    with pytest.raises(ValueError, match="square"):
        LabelChannel(transition=[[1.0, 0.0]])


def test_random_bits_are_fair_binary_and_reproducible():
    from linksim.phy.bit_source import BinarySource, random_bits

    bits = random_bits(300, 1000, SEED).numpy()  # 1000 is not a multiple of 32: tail words cut
    assert bits.shape == (300, 1000) and set(np.unique(bits)) == {0.0, 1.0}
    assert_in_binomial_interval(int(bits.sum()), bits.size, 0.5)
    assert_in_binomial_interval(int(np.sum(bits[:, 1:] == bits[:, :-1])), bits[:, 1:].size, 0.5)  # no lag-1 dependence
    assert np.array_equal(bits, BinarySource()([300, 1000], SEED).numpy())


def test_the_phy_public_names_import_from_the_package_without_starting_tensorflow():
    import subprocess
    import sys

    code = ("import sys, linksim.phy as phy\n"
            "assert 'tensorflow' not in sys.modules\n"
            "assert phy.noise_variance(10.0, 'esno') == 0.1 and phy.clopper_pearson(0, 10)[0] == 0.0\n"
            "assert 'tensorflow' not in sys.modules\n"
            "for name in phy.__all__:\n"
            "    getattr(phy, name)\n"
            "from linksim.phy import AWGN, make_constellation\n"
            "assert AWGN.__module__ == 'linksim.phy.channels' and callable(make_constellation)\n"
            "print(len(phy.__all__))\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-1500:]
    assert int(result.stdout.split()[-1]) >= 40


def test_a_fading_block_length_that_does_not_divide_the_row_is_a_clear_error_under_tf_function():
    channel = RayleighBlockFading(block_length=4)
    with pytest.raises(ValueError, match="multiple of block_length 4"):
        tf.function(channel)(tf.zeros([2, 6], tf.complex64), tf.constant(0.1))
