"""Confidence intervals for error rates and means."""
import numpy as np
from scipy import stats

__all__ = ["clopper_pearson", "wilson", "mean_interval", "binomial_interval"]


def clopper_pearson(errors, trials, confidence: float = 0.95):
    """Exact (Clopper–Pearson) binomial interval for ``errors`` out of ``trials``.

    Output
    ------
    low, high : np.ndarray float64
        Guaranteed coverage ≥ ``confidence``. ``(nan, nan)`` where ``trials == 0``.
    """
    k = np.asarray(errors, dtype=np.float64)
    n = np.asarray(trials, dtype=np.float64)
    alpha = 1 - confidence
    with np.errstate(invalid="ignore", divide="ignore"):
        low = np.where(k > 0, stats.beta.ppf(alpha / 2, k, n - k + 1), 0.0)
        high = np.where(k < n, stats.beta.ppf(1 - alpha / 2, k + 1, n - k), 1.0)
    invalid = n <= 0
    return np.where(invalid, np.nan, low), np.where(invalid, np.nan, high)


def wilson(errors, trials, confidence: float = 0.95):
    """Wilson score interval; cheaper than Clopper–Pearson, near-nominal coverage."""
    k = np.asarray(errors, dtype=np.float64)
    n = np.asarray(trials, dtype=np.float64)
    z = stats.norm.ppf(1 - (1 - confidence) / 2)
    with np.errstate(invalid="ignore", divide="ignore"):
        p = k / n
        centre = (p + z**2 / (2 * n)) / (1 + z**2 / n)
        half = z / (1 + z**2 / n) * np.sqrt(p * (1 - p) / n + z**2 / (4 * n**2))
    return np.clip(centre - half, 0, 1), np.clip(centre + half, 0, 1)


def binomial_interval(errors, trials, confidence: float = 0.95, method: str = "clopper-pearson"):
    """Dispatch to :func:`clopper_pearson` (``"clopper-pearson"``) or :func:`wilson`."""
    if method == "clopper-pearson":
        return clopper_pearson(errors, trials, confidence)
    if method == "wilson":
        return wilson(errors, trials, confidence)
    raise ValueError(f"unknown interval method {method!r}; expected 'clopper-pearson' or 'wilson'")


def mean_interval(total, total_sq, count, confidence: float = 0.95):
    """Mean and Student-t interval from running sums ``Σx``, ``Σx²`` and ``count``.

    Output
    ------
    mean, low, high : np.ndarray float64 (``nan`` bounds when ``count < 2``)
    """
    s = np.asarray(total, dtype=np.float64)
    s2 = np.asarray(total_sq, dtype=np.float64)
    n = np.asarray(count, dtype=np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = s / n
        var = np.maximum(s2 - n * mean**2, 0) / (n - 1)
        half = stats.t.ppf(1 - (1 - confidence) / 2, np.maximum(n - 1, 1)) * np.sqrt(var / n)
    half = np.where(n >= 2, half, np.nan)
    return mean, mean - half, mean + half
