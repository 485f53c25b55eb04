"""SNR conventions and noise variances.

Three conventions, always named explicitly:

- ``esno``: energy per symbol over N0, in dB. For a constellation of average energy ``Es``
  the complex noise variance per symbol is ``N0 = Es / 10**(esno/10)`` (``N0/2`` per real
  dimension), which is what Sionna's ``AWGN`` takes as ``no``.
- ``ebno``: energy per information bit over N0, in dB: ``Es/N0 = Eb/N0 · bits_per_symbol ·
  coderate``.
- ``snr``: analog signal power over noise power for real-valued latents, in dB: the noise
  variance per real sample is ``P / 10**(snr/10)``.
"""
import numpy as np

__all__ = [
    "CONVENTIONS",
    "ebno_db_to_esno_db",
    "esno_db_to_ebno_db",
    "noise_variance",
    "normalize_power",
    "snr_grid",
]

CONVENTIONS = ("esno", "ebno", "snr")


def ebno_db_to_esno_db(ebno_db, bits_per_symbol: int, coderate: float = 1.0):
    """Es/N0 [dB] from Eb/N0 [dB]: adds ``10·log10(bits_per_symbol · coderate)``."""
    _check_rate(bits_per_symbol, coderate)
    return np.asarray(ebno_db, dtype=np.float64) + 10 * np.log10(bits_per_symbol * coderate)


def esno_db_to_ebno_db(esno_db, bits_per_symbol: int, coderate: float = 1.0):
    """Eb/N0 [dB] from Es/N0 [dB]; inverse of :func:`ebno_db_to_esno_db`."""
    _check_rate(bits_per_symbol, coderate)
    return np.asarray(esno_db, dtype=np.float64) - 10 * np.log10(bits_per_symbol * coderate)


def _check_rate(bits_per_symbol, coderate):
    if not bits_per_symbol or bits_per_symbol <= 0:
        raise ValueError(f"bits_per_symbol must be positive, got {bits_per_symbol!r}")
    if not 0 < coderate <= 1:
        raise ValueError(f"coderate must be in (0, 1], got {coderate!r}")


def noise_variance(
    snr_db,
    convention: str,
    *,
    bits_per_symbol: int | None = None,
    coderate: float = 1.0,
    signal_power: float = 1.0,
):
    """Noise variance for an SNR given in a named convention.

    Parameters
    ----------
    snr_db : float or array
        SNR in dB.
    convention : "esno" | "ebno" | "snr"
        See the module docstring.
    bits_per_symbol : int, optional
        Required for ``ebno``.
    coderate : float
        Code rate for ``ebno`` (1 for uncoded links).
    signal_power : float
        Average energy per (complex) symbol for ``esno``/``ebno``, or average power per real
        sample for ``snr``.

    Output
    ------
    float or np.ndarray, float64
        ``esno``/``ebno``: complex noise variance N0 per symbol (Sionna's ``no``).
        ``snr``: noise variance per real sample.
    """
    if convention not in CONVENTIONS:
        raise ValueError(f"unknown SNR convention {convention!r}; expected one of {CONVENTIONS}")
    if not signal_power > 0:
        raise ValueError(f"signal_power must be positive, got {signal_power!r}")
    snr_db = np.asarray(snr_db, dtype=np.float64)
    if convention == "ebno":
        if bits_per_symbol is None:
            raise ValueError("the 'ebno' convention needs bits_per_symbol")
        snr_db = ebno_db_to_esno_db(snr_db, bits_per_symbol, coderate)
    return signal_power / 10 ** (snr_db / 10)


def snr_grid(start: float, stop: float, step: float) -> np.ndarray:
    """SNR points ``start, start + step, …`` up to ``stop`` included (within 1e-9 steps), rounded to
    10 decimals so that 0.1-dB grids print as typed. [P] float64."""
    count = int(np.floor((stop - start) / step + 1e-9)) + 1
    return np.round(start + step * np.arange(count), 10)


def normalize_power(x, axis=-1, power: float = 1.0, epsilon: float = 1e-12):
    """Scale ``x`` so its average power ``mean(|x|²)`` over ``axis`` equals ``power``.

    Input
    -----
    x : [..., n], tf.float or tf.complex

    Output
    ------
    [..., n], same dtype as ``x``
    """
    import tensorflow as tf

    x = tf.convert_to_tensor(x)
    real_dtype = x.dtype.real_dtype
    energy = tf.reduce_mean(tf.square(tf.abs(x)), axis=axis, keepdims=True)
    rms = tf.sqrt(tf.maximum(energy, tf.cast(epsilon, real_dtype)) / tf.cast(power, real_dtype))
    return x / tf.cast(rms, x.dtype)
