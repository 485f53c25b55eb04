"""Transition matrices of discrete label channels: the one check every caller uses (NumPy only, so
scenario validation imports no TensorFlow)."""
import numpy as np

__all__ = ["check_transition"]


def check_transition(transition, num_classes: int | None = None) -> np.ndarray:
    """``transition`` as a row-stochastic C×C float64 matrix (``P(output = j | input = i)``).

    Raises ``ValueError`` naming what is wrong: not square, C < 2 (or C ≠ ``num_classes``), a
    negative or non-finite entry, a row that does not sum to 1 (within 1e-6).
    """
    rows = list(transition)
    if not rows or any(np.ndim(row) != 1 or len(row) != len(rows) for row in rows):
        raise ValueError("the transition matrix must be square (C×C)")
    t = np.asarray(rows, dtype=np.float64)
    if num_classes is not None and t.shape[0] != num_classes:
        raise ValueError(f"the transition matrix must be {num_classes}×{num_classes}, got {t.shape[0]}×{t.shape[0]}")
    if t.shape[0] < 2:
        raise ValueError(f"the transition matrix must be C×C with C ≥ 2, got {t.shape[0]}×{t.shape[0]}")
    if not np.all(np.isfinite(t)) or np.any(t < 0):
        raise ValueError("transition entries must be finite and non-negative")
    sums = t.sum(axis=1)
    bad = np.flatnonzero(np.abs(sums - 1.0) > 1e-6)
    if bad.size:
        raise ValueError(f"row {bad[0]} of the transition matrix sums to {sums[bad[0]]:.6g}, not 1")
    return t
