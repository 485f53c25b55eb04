"""VE schedule properties and the PC sampler with an exact score on a known prior."""
import numpy as np
import pytest
import tensorflow as tf

from linksim.models.diffusion import VESchedule, pc_sample
from linksim.phy.constellations import make_constellation


def test_schedule_is_monotone_with_the_right_endpoints():
    s = VESchedule(0.01, 10.0, 64)
    assert s.sigmas[0] == pytest.approx(0.01) and s.sigmas[-1] == pytest.approx(10.0)
    assert np.all(np.diff(s.sigmas) > 0)
    np.testing.assert_allclose(s.sigma(np.linspace(0, 1, 64)), s.sigmas, rtol=1e-12)
    ratios = s.sigmas[1:] / s.sigmas[:-1]
    np.testing.assert_allclose(ratios, ratios[0], rtol=1e-12)  # geometric
    with pytest.raises(ValueError):
        VESchedule(1.0, 0.5)


def test_forward_steps_accumulate_to_the_marginal_std():
    """Iterating eq. (7) from level 0 gives z_i − z_0 with variance σ_i² − σ_0² (CN: half per real dim)."""
    s = VESchedule(0.01, 10.0, 64)
    rng = np.random.default_rng(0)
    n = 200_000
    z = np.zeros(n, np.complex128)
    for i in range(1, 40):
        z = z + s.step_std(i) * (rng.normal(size=n) + 1j * rng.normal(size=n)) / np.sqrt(2)
    expected = s.sigmas[39] ** 2 - s.sigmas[0] ** 2
    assert np.mean(np.abs(z) ** 2) == pytest.approx(expected, rel=0.01)
    assert np.var(z.real) == pytest.approx(expected / 2, rel=0.01)


@pytest.mark.parametrize("esno_db", [-18.0, -6.0, 0.0, 12.0, 18.0])
def test_start_level_matches_the_channel_noise(esno_db):
    s = VESchedule(0.01, 10.0, 64)
    noise_std = np.sqrt(10 ** (-esno_db / 10))  # unit-energy symbols: N0 = 10^(-Es/N0 / 10)
    level = int(s.level_for_noise(noise_std))
    half_step = np.sqrt(s.sigmas[1] / s.sigmas[0])
    assert s.sigmas[level] / half_step <= noise_std * (1 + 1e-9) and noise_std <= s.sigmas[level] * half_step * (1 + 1e-9)
    assert s.level_for_noise(100.0) == 63 and s.level_for_noise(1e-4) == 0


POINTS = make_constellation("qam16").points.numpy()
SKEWED = np.where(np.abs(POINTS) < 0.5, 0.7 / 4, 0.3 / 12)  # inner points likelier, as an encoder makes them
TAU = 0.05  # spread of each mixture component


def _mixture_score(weights, tau=TAU):
    """Exact Wirtinger score of Σ_k π_k CN(c_k, τ² + σ²): the prior Σ_k π_k CN(c_k, τ²) at level σ."""
    c, log_w = tf.constant(POINTS, tf.complex64), tf.constant(np.log(weights), tf.float32)

    def score(z, sigma):
        variance = tau**2 + tf.square(sigma)
        d = z[..., None] - c  # [batch, n, K]
        w = tf.cast(tf.nn.softmax(log_w - tf.square(tf.abs(d)) / variance, axis=-1), tf.complex64)
        return -tf.reduce_sum(w * d, axis=-1) / tf.cast(variance, tf.complex64)

    return score


def _channel(weights, esno_db, seed):
    rng = np.random.default_rng(seed)
    index = rng.choice(16, size=(64, 128), p=weights)
    sent = POINTS[index] + TAU * (rng.normal(size=index.shape) + 1j * rng.normal(size=index.shape)) / np.sqrt(2)
    no = 10 ** (-esno_db / 10)
    received = sent + np.sqrt(no / 2) * (rng.normal(size=sent.shape) + 1j * rng.normal(size=sent.shape))
    return sent, received.astype(np.complex64), no


def _denoise(weights, received, no, **kwargs):
    schedule = VESchedule(0.01, 10.0, 64)
    return pc_sample(_mixture_score(weights), received, schedule, int(schedule.level_for_noise(np.sqrt(no))), seed=(3, 4), **kwargs).numpy()


@pytest.mark.parametrize("esno_db", [-6.0, 18.0])
def test_sampler_with_the_exact_score_lowers_the_symbol_mse(esno_db):
    """Paper settings (L = 2, r = 0.16) on a non-uniform mixture prior on the 16-QAM points."""
    sent, received, no = _channel(SKEWED, esno_db, seed=1)
    mse_channel = np.mean(np.abs(received - sent) ** 2)
    mse_denoised = np.mean(np.abs(_denoise(SKEWED, received, no) - sent) ** 2)
    assert mse_channel == pytest.approx(no, rel=0.05)
    assert mse_denoised < 0.5 * mse_channel, (mse_channel, mse_denoised)


@pytest.mark.parametrize("esno_db", [0.0, 6.0])
def test_predictor_samples_the_posterior_so_its_error_is_twice_the_mmse(esno_db):
    """A posterior sample ẑ has E|ẑ − z|² = 2·MMSE. At 6 dB that exceeds N0: sampling from the
    posterior does not lower the MSE of uniform i.i.d. symbols there, whatever the score quality."""
    uniform = np.full(16, 1 / 16)
    sent, received, no = _channel(uniform, esno_db, seed=2)
    d = received[..., None] - POINTS  # exact posterior mean of the mixture
    w = uniform * np.exp(-np.abs(d) ** 2 / (TAU**2 + no))
    w /= w.sum(axis=-1, keepdims=True)
    shrink = TAU**2 / (TAU**2 + no)
    posterior_mean = np.sum(w * (POINTS + shrink * d), axis=-1)
    mmse = np.mean(np.abs(posterior_mean - sent) ** 2)
    sample_mse = np.mean(np.abs(_denoise(uniform, received, no, num_corrector=0) - sent) ** 2)
    assert sample_mse == pytest.approx(2 * mmse, rel=0.1)
    if esno_db == 6.0:
        assert sample_mse > no


def test_sampler_from_level_zero_is_the_identity_and_is_seeded():
    schedule = VESchedule()
    z = np.ones((2, 8), np.complex64)
    score = _mixture_score(np.full(16, 1 / 16))
    assert np.array_equal(pc_sample(score, z, schedule, 0).numpy(), z)
    a = pc_sample(score, z, schedule, 20, seed=(1, 1)).numpy()
    assert np.array_equal(a, pc_sample(score, z, schedule, 20, seed=(1, 1)).numpy())
    assert not np.array_equal(a, pc_sample(score, z, schedule, 20, seed=(1, 2)).numpy())


def test_the_final_tweedie_step_is_the_exact_posterior_mean_at_the_lowest_level():
    """From level 0 the sampler is just the final step: z + σ_0² s(z, σ_0) = E[x | z] of the mixture at σ_0."""
    schedule = VESchedule(0.05, 10.0, 64)
    weights = SKEWED
    rng = np.random.default_rng(5)
    z = (POINTS[rng.integers(0, 16, (4, 32))] + 0.07 * (rng.normal(size=(4, 32)) + 1j * rng.normal(size=(4, 32)))).astype(np.complex64)
    out = pc_sample(_mixture_score(weights), z, schedule, 0, final_denoise=True).numpy()
    no = schedule.sigmas[0] ** 2
    d = z[..., None] - POINTS
    w = weights * np.exp(-np.abs(d) ** 2 / (TAU**2 + no))
    w /= w.sum(axis=-1, keepdims=True)
    posterior_mean = np.sum(w * (POINTS + TAU**2 / (TAU**2 + no) * d), axis=-1)
    np.testing.assert_allclose(out, posterior_mean, atol=2e-5)
    assert np.array_equal(pc_sample(_mixture_score(weights), z, schedule, 0).numpy(), z)  # without it: unchanged


PRIOR = 0.25  # CN(0, 0.25) symbols: the noisy marginal at level σ is CN(0, 0.25 + σ²), its score −z / (0.25 + σ²)


def _gaussian_score(z, sigma):
    return -z / tf.cast(PRIOR + tf.square(sigma), tf.complex64)


def _what_the_output_keeps(received, out):
    """Regression slope of the output on the received symbols (Re E[out r̄] / E|r|²) and the output's variance."""
    received, out = received.numpy().ravel(), out.numpy().ravel()
    return float(np.real(np.vdot(received, out)) / np.vdot(received, received).real), float(np.mean(np.abs(out) ** 2))


@pytest.mark.parametrize("variant, expected_slope", [
    ({"num_corrector": 0}, "posterior"),
    ({}, "lost"),
    ({"corrector_step": "score_sde"}, "lost"),
    ({"corrector_min_sigma": 0.3}, "between"),
])
def test_how_much_of_the_received_signal_each_corrector_variant_keeps(variant, expected_slope):
    """Started from received symbols at σ = 0.80 (level 40) with the exact score of a Gaussian prior,
    whose posterior mean is known (slope 0.25 / (0.25 + 0.64) = 0.281 on the received symbols): the
    predictor alone keeps the posterior's slope (0.279; its samples are 6 % wider than the prior's 0.25
    with these 40 levels); Algorithm 2's corrector (L = 2, r = 0.16) and score_sde's forget what was
    received (slope < 0.01); correcting only the levels with σ ≥ 0.3 keeps part (0.11)."""
    s = VESchedule(0.01, 10.0, 64)
    level = 40
    sigma = float(s.sigmas[level])  # 0.803
    batch, n = 2048, 32
    clean = (np.sqrt(PRIOR / 2) * (np.random.default_rng(1).normal(size=(batch, n, 2)) @ [1, 1j])).astype(np.complex64)
    noise = (sigma * np.sqrt(0.5) * (np.random.default_rng(2).normal(size=(batch, n, 2)) @ [1, 1j])).astype(np.complex64)
    received = tf.constant(clean + noise)
    out = pc_sample(_gaussian_score, received, s, level, seed=(3, 4), **{"num_corrector": 2, "r": 0.16, **variant})
    slope, variance = _what_the_output_keeps(received, out)
    posterior = PRIOR / (PRIOR + sigma ** 2)
    if expected_slope == "posterior":
        assert slope == pytest.approx(posterior, abs=0.01) and variance == pytest.approx(PRIOR, rel=0.08)
    elif expected_slope == "lost":
        assert abs(slope) < 0.03 and variance == pytest.approx(PRIOR, rel=0.08)
    else:
        assert 0.05 < slope < posterior - 0.02


def test_score_sde_step_sizes_leave_narrower_samples_than_per_sample_ones():
    """Per-sample ξ (Algorithm 2 read literally) leaves the samples wider than score_sde's batch-mean
    rule; both sit near the Langevin bias 0.25 (1 + r²) of the exact-score chain, 0.2564."""
    s = VESchedule(0.01, 10.0, 64)
    received = tf.constant((np.sqrt((PRIOR + s.sigmas[40] ** 2) / 2)
                            * (np.random.default_rng(5).normal(size=(4096, 32, 2)) @ [1, 1j])).astype(np.complex64))
    widths = {step: _what_the_output_keeps(received, pc_sample(_gaussian_score, received, s, 40, corrector_step=step, seed=(6, 7)))[1]
              for step in ("algorithm2", "score_sde")}
    assert widths["algorithm2"] > widths["score_sde"] + 0.003
    assert widths["score_sde"] == pytest.approx(PRIOR * (1 + 0.16 ** 2), rel=0.01)


def test_bad_corrector_options_are_refused():
    s = VESchedule()
    with pytest.raises(ValueError, match="corrector_step"):
        pc_sample(_gaussian_score, tf.zeros([1, 8], tf.complex64), s, 3, corrector_step="annealed")
    with pytest.raises(ValueError, match="corrector_min_sigma"):
        pc_sample(_gaussian_score, tf.zeros([1, 8], tf.complex64), s, 3, corrector_min_sigma=-1.0)
