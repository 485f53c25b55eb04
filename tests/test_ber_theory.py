"""Exact BER formulas and Monte Carlo against them."""
import numpy as np
import pytest

from linksim.phy.ber_theory import ber_awgn, ber_awgn_per_bit, ber_awgn_textbook, q_function
from linksim.phy.fast_ber import HardDecisionBERCounter
from linksim.phy.seeding import stateless_seed
from linksim.phy.snr import noise_variance
from tests.conftest import assert_in_binomial_interval


@pytest.mark.parametrize("modulation", ["bpsk", "qpsk", "qam16", "qam64"])
def test_enumeration_equals_textbook_closed_forms(modulation):
    ebno = np.linspace(-4, 20, 49)
    np.testing.assert_allclose(ber_awgn(modulation, ebno, "ebno"), ber_awgn_textbook(modulation, ebno), rtol=1e-10)


def test_qam256_against_independent_gray_pam_sum():
    """256-QAM per axis = Gray 16-PAM; the exact sum of Cho & Yoon written out independently."""
    esno = np.array([10.0, 20.0, 30.0])
    d = np.sqrt(3 / (2 * 255))  # half the level spacing at unit Es
    sigma = np.sqrt(1 / (2 * 10 ** (esno / 10)))
    gray = [i ^ (i >> 1) for i in range(16)]
    levels = (2 * np.arange(16) - 15) * d
    ber = 0
    for i in range(16):
        for j in range(16):
            lo = -np.inf if j == 0 else levels[j] - d
            hi = np.inf if j == 15 else levels[j] + d
            p = q_function((lo - levels[i]) / sigma) - q_function((hi - levels[i]) / sigma)
            ber = ber + p * bin(gray[i] ^ gray[j]).count("1")
    np.testing.assert_allclose(ber_awgn("qam256", esno, "esno"), ber / 64, rtol=1e-9)


def test_high_snr_tail_matches_nearest_neighbour_asymptote():
    # At 20 dB Eb/N0 16-QAM's BER is dominated by ¾Q(√(0.8 γb)); the exact sum keeps precision there.
    gb = 10 ** 2.0
    assert ber_awgn("qam16", 20.0, "ebno") == pytest.approx(0.75 * q_function(np.sqrt(0.8 * gb)), rel=1e-6)
    assert 0 < ber_awgn("qam16", 20.0, "ebno") < 1e-18


@pytest.mark.parametrize("modulation,ebno_points", [
    ("bpsk", [0.0, 4.0, 7.0]), ("qpsk", [0.0, 4.0, 7.0]), ("qam16", [2.0, 6.0, 10.0]),
    ("qam64", [4.0, 8.0, 12.0]), ("qam256", [8.0, 12.0, 15.0]),
])
def test_fast_counter_ber_inside_99_percent_interval_of_exact(modulation, ebno_points):
    """Family-wise 99 %: Bonferroni over the 15 points of this test's parameters."""
    counter = HardDecisionBERCounter(modulation, num_symbols=2**20)
    for p, ebno in enumerate(ebno_points):
        no = noise_variance(ebno, "ebno", bits_per_symbol=counter.num_bits // counter.num_symbols)
        errors, bits = counter(no, stateless_seed(5, p, 0))
        assert_in_binomial_interval(int(errors), bits, float(ber_awgn(modulation, ebno, "ebno")), confidence=1 - 0.01 / 15)


def test_fast_counter_is_reproducible_and_seed_dependent():
    counter = HardDecisionBERCounter("qam16", num_symbols=100_000)
    a, _ = counter(0.1, stateless_seed(1, 0, 0))
    b, _ = counter(0.1, stateless_seed(1, 0, 0))
    c, _ = counter(0.1, stateless_seed(1, 0, 1))
    assert int(a) == int(b) and int(a) != int(c)


@pytest.mark.parametrize("modulation, esno_db", [("qam16", 6.0), ("qam64", 12.0), ("pam4", 4.0)])
def test_per_bit_position_ber_matches_sionna_mapping_and_slicing(modulation, esno_db):
    """Each label bit's error rate through Sionna's Mapper, AWGN and the slicer, against the exact
    per-position BER; Gray QAM's sign bits (first bit of each axis) are the reliable ones."""
    import tensorflow as tf
    from sionna.phy.mapping import Mapper

    from linksim.phy.channels import AWGN
    from linksim.phy.constellations import make_constellation
    from linksim.phy.demapping import SlicerDemapper
    from linksim.phy.modulations import modulation_info

    k = modulation_info(modulation).num_bits_per_symbol
    constellation = make_constellation(modulation)
    bits = tf.cast(tf.random.stateless_uniform([200_000, k], (4, 5), 0, 2, tf.int32), tf.float32)
    y = AWGN()(Mapper(constellation=constellation)(bits), noise_variance(esno_db, "esno"), seed=(6, 7))
    errors = tf.reduce_sum(tf.cast(SlicerDemapper(constellation=constellation)(y) != bits, tf.int64), axis=0).numpy()
    expected = ber_awgn_per_bit(modulation, esno_db, "esno")
    for position in range(k):
        assert_in_binomial_interval(int(errors[position]), 200_000, float(expected[position]), confidence=0.999)
    axes = modulation_info(modulation).num_axes
    assert np.all(expected[:axes] < expected[axes:].min())  # sign bits first and most reliable
    assert np.mean(expected) == pytest.approx(float(ber_awgn(modulation, esno_db, "esno")), rel=1e-12)


@pytest.mark.parametrize("modulation", ["bpsk", "qpsk", "qam16", "qam64", "qam256"])
def test_the_rayleigh_ber_is_the_awgn_ber_averaged_over_exponential_snr(modulation):
    """Against numerical integration of the exact AWGN BER over |h|² ~ Exp(1), and QPSK against
    ½(1 − √(γb/(1+γb)))."""
    from scipy import integrate

    from linksim.phy.ber_theory import ber_rayleigh

    for esno_db in (0.0, 12.0, 30.0):
        mean = 10 ** (esno_db / 10)
        integral, _ = integrate.quad(lambda t: float(ber_awgn(modulation, 10 * np.log10(max(mean * t, 1e-300)), "esno")) * np.exp(-t),
                                     0, np.inf, limit=500)
        assert float(ber_rayleigh(modulation, esno_db)) == pytest.approx(integral, rel=1e-6)
    gb = 10 ** (np.arange(0, 30, 3.0) / 10)
    np.testing.assert_allclose(ber_rayleigh("qpsk", np.arange(0, 30, 3.0), "ebno"), 0.5 * (1 - np.sqrt(gb / (1 + gb))), rtol=1e-12)
