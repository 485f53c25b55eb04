import numpy as np
import pytest

from linksim.phy.ber_table import BerTable
from linksim.phy.ber_theory import ber_awgn
from tests.conftest import assert_in_binomial_interval


def test_closed_form_table_rows_are_labelled_and_exact():
    t = BerTable.closed_form("qam16", "esno", np.arange(0, 19, 1.0))
    assert set(t.source) == {"closed_form"}
    np.testing.assert_allclose(t.ber, ber_awgn("qam16", np.arange(0, 19, 1.0), "esno"))
    assert np.all(np.isnan(t.ci_low)) and np.all(t.bits == 0)


def test_measured_table_inside_intervals_then_closed_form_after_the_first_error_free_point():
    snr = np.array([4.0, 8.0, 12.0, 30.0, 32.0])
    t = BerTable.measure("qam16", "ebno", snr, target_errors=2000, max_bits=4 * 2**20, seed=3, num_symbols=2**18)
    assert list(t.source) == ["measured", "measured", "measured", "measured", "closed_form"]
    for p in range(3):
        assert t.bit_errors[p] >= 2000 or t.bits[p] >= 4 * 2**20
        assert_in_binomial_interval(t.bit_errors[p], t.bits[p], ber_awgn("qam16", snr[p], "ebno"), confidence=1 - 0.01 / 3)
        assert t.ci_low[p] <= t.ber[p] <= t.ci_high[p]
    assert t.bit_errors[3] == 0 and t.ci_high[3] > 0  # measured: zero errors, an upper bound only
    assert t.ber[4] == pytest.approx(ber_awgn("qam16", 32.0, "ebno"))  # not measured: says closed form
    again = BerTable.measure("qam16", "ebno", snr, target_errors=2000, max_bits=4 * 2**20, seed=3, num_symbols=2**18)
    assert np.array_equal(again.bit_errors, t.bit_errors)


def test_interpolation_and_inversion_round_trip():
    snr = np.arange(0, 19, 1.0)
    t = BerTable.closed_form("qam16", "esno", snr)
    np.testing.assert_allclose(t.ber_at(snr), t.ber, rtol=1e-12)
    queries = np.array([0.3, 5.5, 12.25, 17.9])
    np.testing.assert_allclose(t.snr_for(t.ber_at(queries)), queries, rtol=1e-9)
    mid = t.ber_at(5.5)  # log-domain interpolation lies between its neighbours and near the exact value
    assert t.ber[6] < mid < t.ber[5]
    assert mid == pytest.approx(ber_awgn("qam16", 5.5, "esno"), rel=0.02)
    with pytest.raises(ValueError, match="range"):
        t.ber_at(19.5)
    with pytest.raises(ValueError, match="range"):
        t.snr_for(0.9)


def test_hdf5_round_trip(tmp_path):
    t = BerTable.measure("qpsk", "esno", [0.0, 3.0], target_errors=200, max_bits=10**6, seed=1, num_symbols=2**16)
    path = tmp_path / "table.h5"
    t.save(path, metadata={"note": "test"})
    back = BerTable.load(path)
    for name in ("snr_db", "ber", "ci_low", "ci_high", "bit_errors", "bits", "source"):
        assert np.array_equal(getattr(back, name), getattr(t, name)), name
    assert (back.modulation, back.convention, back.metadata["note"]) == ("qpsk", "esno", "test")
    assert t.to_csv().splitlines()[0] == "snr_db,ber,ci_low,ci_high,bit_errors,bits,source"


def test_load_rejects_other_files(tmp_path):
    import h5py

    path = tmp_path / "other.h5"
    with h5py.File(path, "w") as f:
        f.create_dataset("x", data=[1])
    with pytest.raises(ValueError, match="not a linksim BER table"):
        BerTable.load(path)


def test_measured_table_through_any_chain_here_stock_sionna_maxlog_llrs():
    import tensorflow as tf
    from sionna.phy.mapping import Demapper, Mapper

    from linksim.phy.channels import AWGN
    from linksim.phy.constellations import make_constellation
    from linksim.phy.bit_source import random_bits

    c = make_constellation("qam64")
    mapper, channel, demapper = Mapper(constellation=c), AWGN(), Demapper("maxlog", constellation=c)

    @tf.function
    def chain(no, seed):
        seeds = tf.random.split(seed, 2)
        bits = random_bits(200, 600, seeds[0])
        llr = demapper(channel(mapper(bits), no, seed=seeds[1]), no)
        return tf.reduce_sum(tf.cast(tf.not_equal(bits, tf.cast(llr > 0, tf.float32)), tf.int64))

    def counter(no, seed):
        return int(chain(tf.constant(no, tf.float32), tf.constant(seed))), 200 * 600

    snr = np.array([6.0, 10.0])
    t = BerTable.measure("qam64", "ebno", snr, target_errors=1000, max_bits=10**6, seed=4, counter=counter)
    for p in range(2):
        assert_in_binomial_interval(t.bit_errors[p], t.bits[p], ber_awgn("qam64", snr[p], "ebno"), confidence=1 - 0.01 / 2)
