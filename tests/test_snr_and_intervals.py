import numpy as np
import pytest
import tensorflow as tf
from scipy import stats

from linksim.phy.intervals import clopper_pearson, mean_interval, wilson
from linksim.phy.seeding import stateless_seed
from linksim.phy.snr import ebno_db_to_esno_db, esno_db_to_ebno_db, noise_variance, normalize_power


def test_ebno_esno_conversions():
    assert ebno_db_to_esno_db(10.0, 4) == pytest.approx(10 + 10 * np.log10(4))
    assert ebno_db_to_esno_db(0.0, 6, coderate=0.5) == pytest.approx(10 * np.log10(3))
    x = np.linspace(-10, 20, 7)
    np.testing.assert_allclose(esno_db_to_ebno_db(ebno_db_to_esno_db(x, 6, 0.75), 6, 0.75), x)


def test_noise_variance_per_convention():
    assert noise_variance(10.0, "esno") == pytest.approx(0.1)
    assert noise_variance(10.0, "ebno", bits_per_symbol=4) == pytest.approx(0.025)
    assert noise_variance(3.0, "snr", signal_power=2.0) == pytest.approx(2.0 / 10**0.3)
    with pytest.raises(ValueError, match="bits_per_symbol"):
        noise_variance(1.0, "ebno")
    with pytest.raises(ValueError, match="convention"):
        noise_variance(1.0, "cnr")


def test_normalize_power():
    x = tf.complex(tf.random.normal([8, 128]) * 3.0, tf.random.normal([8, 128]))
    y = normalize_power(x)
    np.testing.assert_allclose(np.mean(np.abs(y.numpy()) ** 2, axis=-1), 1.0, rtol=1e-5)
    r = normalize_power(tf.random.normal([4, 64]) + 5.0, power=2.0)
    np.testing.assert_allclose(np.mean(r.numpy() ** 2, axis=-1), 2.0, rtol=1e-5)


def test_clopper_pearson_known_values():
    low, high = clopper_pearson(0, 10, 0.95)
    assert low == 0 and high == pytest.approx(1 - 0.025 ** (1 / 10))
    low, high = clopper_pearson(10, 10, 0.95)
    assert high == 1 and low == pytest.approx(0.025 ** (1 / 10))
    low, high = clopper_pearson(5, 20, 0.95)  # reference values from R's binom.test
    assert low == pytest.approx(0.08657147, abs=1e-7) and high == pytest.approx(0.4910459, abs=1e-7)


def test_wilson_known_value_and_coverage_of_clopper_pearson():
    low, high = wilson(5, 20, 0.95)
    assert low == pytest.approx(0.11186, abs=1e-5) and high == pytest.approx(0.46870, abs=1e-5)  # R prop.test(correct=FALSE)
    rng = np.random.default_rng(0)
    k = rng.binomial(200, 0.03, size=4000)
    lo, hi = clopper_pearson(k, 200, 0.95)
    assert np.mean((lo <= 0.03) & (0.03 <= hi)) >= 0.95  # exact interval: coverage at least nominal


def test_mean_interval_equals_scipy_t_interval():
    x = np.random.default_rng(1).normal(3.0, 2.0, 50)
    mean, low, high = mean_interval(x.sum(), (x**2).sum(), x.size, 0.95)
    ref = stats.t.interval(0.95, x.size - 1, loc=x.mean(), scale=stats.sem(x))
    assert mean == pytest.approx(x.mean())
    assert (low, high) == pytest.approx(ref, rel=1e-9)


def test_stateless_seeds_depend_on_path_only():
    a = stateless_seed(3, 1, 2, 5)
    assert a.dtype == np.int32 and a.shape == (2,)
    assert np.array_equal(a, stateless_seed(3, 1, 2, 5))
    assert not np.array_equal(a, stateless_seed(3, 1, 2, 6))
    assert not np.array_equal(a, stateless_seed(4, 1, 2, 5))
