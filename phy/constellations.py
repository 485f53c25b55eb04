"""Named constellations (BPSK, QPSK, M-QAM, M-PAM) with Gray or natural labelling.

All constellations are Sionna ``Constellation`` objects with unit average energy, so they plug
straight into Sionna's ``Mapper`` / ``Demapper``. Gray labelling is Sionna's own (3GPP TS 38.211
recursion); natural labelling reads each axis's bits as a plain binary number that counts the
amplitude levels upwards. :func:`constellation_points` gives the same points as a NumPy array
without TensorFlow (what closed-form BERs need; a test checks them against Sionna's).
"""
import numpy as np

from linksim.phy.modulations import MODULATIONS, ModulationInfo, modulation_info

__all__ = ["MODULATIONS", "ModulationInfo", "modulation_info", "make_constellation", "constellation_points", "axis_labels"]

LABELLINGS = ("gray", "natural")


def _natural_points(info: ModulationInfo) -> np.ndarray:
    """Unit-energy points where each axis's bits, read MSB first, count the levels upwards.

    Bits are split between the axes as in Sionna's QAM: even positions on I, odd on Q.
    """
    n, m = info.num_bits_per_symbol, info.bits_per_axis
    levels = 2 * np.arange(2**m) - (2**m - 1)  # ascending PAM amplitudes
    points = np.zeros(2**n, dtype=np.complex128)
    for index in range(2**n):
        bits = [(index >> (n - 1 - k)) & 1 for k in range(n)]
        axes = [bits[a :: info.num_axes] for a in range(info.num_axes)]
        values = [levels[int("".join(map(str, b)), 2)] for b in axes]
        points[index] = values[0] + (1j * values[1] if info.num_axes == 2 else 0)
    return points / np.sqrt(np.mean(np.abs(points) ** 2))


def _pam_gray(bits) -> int:
    """The Gray-labelled PAM amplitude (±1, ±3, …) of ``bits``, MSB first (38.211's recursion, as Sionna)."""
    if len(bits) > 1:
        return (1 - 2 * bits[0]) * (2 ** (len(bits) - 1) - _pam_gray(bits[1:]))
    return 1 - 2 * bits[0]


def constellation_points(modulation: str, labelling: str = "gray") -> np.ndarray:
    """The unit-energy points of ``modulation`` in label order: [2^n] complex128 (NumPy only).

    Gray: each axis a Gray-labelled PAM of its bits (even label positions on I, odd on Q), as
    Sionna's ``qam``/``pam``; natural: see :func:`make_constellation`."""
    info = modulation_info(modulation)
    if labelling not in LABELLINGS:
        raise ValueError(f"unknown labelling {labelling!r}; expected one of {', '.join(LABELLINGS)}")
    if labelling == "natural":
        return _natural_points(info)
    n = info.num_bits_per_symbol
    points = np.zeros(2**n, dtype=np.complex128)
    for index in range(2**n):
        bits = [(index >> (n - 1 - k)) & 1 for k in range(n)]
        points[index] = _pam_gray(bits) if info.num_axes == 1 else _pam_gray(bits[0::2]) + 1j * _pam_gray(bits[1::2])
    return points / np.sqrt(np.mean(np.abs(points) ** 2))


def make_constellation(modulation: str, *, labelling: str = "gray", precision=None):
    """Build a unit-energy Sionna ``Constellation``.

    Parameters
    ----------
    modulation : str
        One of ``MODULATIONS`` (``bpsk``, ``pam4``, ``pam8``, ``qpsk``, ``qam16``, ``qam64``,
        ``qam256``).
    labelling : "gray" | "natural"
        Gray is Sionna's labelling; natural counts each axis's levels in binary.
    precision : None | "single" | "double"
        As in Sionna.
    """
    from sionna.phy.mapping import Constellation

    info = modulation_info(modulation)
    if labelling not in LABELLINGS:
        raise ValueError(f"unknown labelling {labelling!r}; expected one of {', '.join(LABELLINGS)}")
    if labelling == "gray":
        return Constellation(info.constellation_type, info.num_bits_per_symbol, precision=precision)
    return Constellation(
        "custom", info.num_bits_per_symbol, points=_natural_points(info), precision=precision
    )


def axis_labels(constellation, num_axes: int) -> tuple[np.ndarray, float]:
    """Per-axis labels of a square (separable) constellation, read off its points (a Sionna
    ``Constellation``, or the points as an array in label order).

    Returns ``(labels, spacing)``: ``labels[k]`` is the integer formed by one axis's bits (MSB
    first) of the k-th amplitude level counted upwards, and ``spacing`` is half the distance
    between neighbouring levels, so level k sits at ``(2k - L + 1) * spacing``. Raises
    ``ValueError`` if the constellation is not a separable square grid with the same labels on
    both axes.
    """
    if isinstance(constellation, np.ndarray):
        points = constellation.astype(np.complex128)
        n = int(np.log2(len(points)))
    else:
        points = constellation.points.numpy().astype(np.complex128)
        n = constellation.num_bits_per_symbol
    m = n // num_axes
    num_levels = 2**m
    labels_per_axis = []
    spacing = None
    for axis in range(num_axes):
        coords = points.real if axis == 0 else points.imag
        levels = np.unique(np.round(coords, 4))
        levels = np.array([coords[np.abs(coords - v) < 1e-3].mean() for v in levels])
        if len(levels) != num_levels:
            raise ValueError("constellation is not a square grid")
        step = np.diff(levels)
        if not np.allclose(step, step[0], rtol=1e-3):
            raise ValueError("constellation levels are not equally spaced")
        spacing = (levels[-1] - levels[0]) / (2 * (num_levels - 1))
        labels = np.full(num_levels, -1)
        for index, coord in enumerate(coords):
            bits = [(index >> (n - 1 - k)) & 1 for k in range(n)][axis::num_axes]
            label = int("".join(map(str, bits)), 2)
            level = int(np.argmin(np.abs(levels - coord)))
            if labels[level] not in (-1, label):
                raise ValueError("constellation labels are not separable per axis")
            labels[level] = label
        labels_per_axis.append(labels)
    if num_axes == 2 and not np.array_equal(labels_per_axis[0], labels_per_axis[1]):
        raise ValueError("I and Q axes carry different labellings")
    return labels_per_axis[0], float(spacing)
