"""Exact bit error rates of uncoded square constellations over AWGN and over Rayleigh fading.

For a square constellation whose labels separate per axis, each axis is an L-PAM with levels
``(2k - L + 1)·d`` and Gaussian noise of std ``sqrt(N0/2)``. The exact BER is the sum over
every transition level i → level j of its probability (a difference of Q functions between
the decision boundaries) times the Hamming distance of the two labels, divided by the bits per
axis (Cho & Yoon, IEEE Trans. Commun. 2002, evaluated by enumeration instead of their
closed-form coefficients). This is exact, not the nearest-neighbour approximation, and works
for any labelling that :func:`linksim.phy.constellations.axis_labels` accepts.

Over Rayleigh fading with perfect channel knowledge (the SNR of each symbol γ̄·|h|², |h|² ~ Exp(1))
the same sum holds with every tail ``Q(c·√(2γ))`` replaced by its average over the fading,
``½(1 − √(c²γ̄ / (1 + c²γ̄)))`` (Simon & Alouini), so :func:`ber_rayleigh` is exact too.
"""
import numpy as np
from scipy.special import erfc

from linksim.phy.constellations import axis_labels, constellation_points, modulation_info
from linksim.phy.snr import ebno_db_to_esno_db

__all__ = ["q_function", "ber_awgn", "ber_awgn_per_bit", "ber_rayleigh", "ber_rayleigh_per_bit", "ber_awgn_textbook"]


def q_function(x):
    """Gaussian tail ``Q(x) = ½ erfc(x / √2)``, accurate deep into the tail."""
    return 0.5 * erfc(np.asarray(x, dtype=np.float64) / np.sqrt(2))


def _esno_db(modulation, snr_db, convention):
    if convention == "esno":
        return np.asarray(snr_db, dtype=np.float64)
    if convention == "ebno":
        return ebno_db_to_esno_db(snr_db, modulation_info(modulation).num_bits_per_symbol)
    raise ValueError(f"BER tables use 'esno' or 'ebno', got {convention!r}")


def ber_awgn(modulation: str, snr_db, convention: str = "esno", labelling: str = "gray"):
    """Exact BER of uncoded hard-decision detection over complex AWGN.

    Parameters
    ----------
    modulation : str
        ``bpsk``, ``pam4``, ``pam8``, ``qpsk``, ``qam16``, ``qam64`` or ``qam256``.
    snr_db : float or array
        Es/N0 or Eb/N0 in dB, per ``convention``.
    convention : "esno" | "ebno"
    labelling : "gray" | "natural"

    Output
    ------
    np.ndarray float64, same shape as ``snr_db``
    """
    return np.mean(ber_awgn_per_bit(modulation, snr_db, convention, labelling), axis=-1)


def ber_awgn_per_bit(modulation: str, snr_db, convention: str = "esno", labelling: str = "gray"):
    """Exact BER of each bit position of the symbol label (Sionna's order, MSB first).

    Square QAM interleaves the axes: label bit ``k`` is bit ``k // 2`` of the I (``k`` even) or
    Q (``k`` odd) axis label. With Gray labelling the first bit of each axis (the sign) is the
    most reliable, e.g. 16-QAM: ``½[Q(a) + Q(3a)]`` for bits 0 and 1 against
    ``Q(a) + ½[Q(3a) − Q(5a)]`` for bits 2 and 3, ``a = √(γs/5)``.

    Output
    ------
    np.ndarray float64, shape ``snr_db.shape + (bits per symbol,)``
    """
    esno = 10 ** (_esno_db(modulation, snr_db, convention) / 10)
    return _per_bit(modulation, labelling, lambda distance: q_function(distance * np.sqrt(2 * esno)), np.shape(esno))


def ber_rayleigh(modulation: str, snr_db, convention: str = "esno", labelling: str = "gray"):
    """Exact BER of uncoded hard-decision detection over Rayleigh fading with perfect CSI (a
    complex Gaussian gain of unit mean power per symbol, equalised), at mean Es/N0 or Eb/N0
    ``snr_db``. Same inputs and output as :func:`ber_awgn`."""
    return np.mean(ber_rayleigh_per_bit(modulation, snr_db, convention, labelling), axis=-1)


def ber_rayleigh_per_bit(modulation: str, snr_db, convention: str = "esno", labelling: str = "gray"):
    """:func:`ber_awgn_per_bit` averaged over Rayleigh fading: each tail ``Q(c·√(2γ))`` becomes
    ``½(1 − √(c²γ̄ / (1 + c²γ̄)))``."""
    esno = 10 ** (_esno_db(modulation, snr_db, convention) / 10)

    def faded_tail(distance):
        a = np.square(distance) * esno
        with np.errstate(invalid="ignore"):
            return np.where(np.isinf(distance), 0.0, 0.5 * (1 - np.sqrt(a / (1 + a))))

    return _per_bit(modulation, labelling, faded_tail, np.shape(esno))


def _per_bit(modulation, labelling, tail, shape):
    """Per-bit BER of ``modulation`` (label bits MSB first, [*shape, bits per symbol]) given
    ``tail(c)``: the probability that the noise along one axis exceeds the distance ``c``
    (≥ 0, possibly ∞) at unit symbol energy."""
    info = modulation_info(modulation)
    labels, spacing = axis_labels(constellation_points(modulation, labelling), info.num_axes)
    num_levels, m = len(labels), info.bits_per_axis
    levels = (2 * np.arange(num_levels) - num_levels + 1) * spacing
    upper = np.append((2 * np.arange(num_levels - 1) - num_levels + 2) * spacing, np.inf)
    lower = np.insert(upper[:-1], 0, -np.inf)
    flips = np.array([[[((a ^ b) >> (m - 1 - bit)) & 1 for bit in range(m)] for b in labels] for a in labels])  # [L, L, m]
    axis_ber = np.zeros(shape + (m,))
    for i in range(num_levels):
        for j in range(num_levels):
            if not flips[i, j].any():
                continue
            # Tail differences on the far side keep full relative precision at high SNR.
            if j > i:
                p = tail(lower[j] - levels[i]) - tail(upper[j] - levels[i])
            else:
                p = tail(levels[i] - upper[j]) - tail(levels[i] - lower[j])
            axis_ber = axis_ber + np.multiply.outer(p, flips[i, j])
    axis_ber = axis_ber / num_levels  # [..., m]: BER of each axis bit, MSB first
    return np.repeat(axis_ber, info.num_axes, axis=-1)  # label bit k is axis bit k // num_axes


def ber_awgn_textbook(modulation: str, ebno_db):
    """Textbook closed forms of Gray BPSK/QPSK, 16-QAM and 64-QAM versus Eb/N0.

    Used to cross-check :func:`ber_awgn`: Pb = Q(√(2γb)) for BPSK/QPSK;
    16-QAM, a = √(γs/5): ¾Q(a) + ½Q(3a) − ¼Q(5a);
    64-QAM, a = √(γs/21): (7Q(a) + 6Q(3a) − Q(5a) + Q(9a) − Q(13a)) / 12.
    """
    gb = 10 ** (np.asarray(ebno_db, dtype=np.float64) / 10)
    q = q_function
    if modulation in ("bpsk", "qpsk"):
        return q(np.sqrt(2 * gb))
    if modulation == "qam16":
        a = np.sqrt(4 * gb / 5)
        return 0.75 * q(a) + 0.5 * q(3 * a) - 0.25 * q(5 * a)
    if modulation == "qam64":
        a = np.sqrt(6 * gb / 21)
        return (7 * q(a) + 6 * q(3 * a) - q(5 * a) + q(9 * a) - q(13 * a)) / 12
    raise ValueError(f"no textbook formula for {modulation!r}")
