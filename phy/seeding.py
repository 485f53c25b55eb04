"""Reproducible stateless seeds derived from one run seed.

A chunk of Monte Carlo work is identified by a path such as ``(point_index, chunk_index)``; its
seed depends on the run seed and that path only (numpy ``SeedSequence`` with a spawn key), so
the same chunk draws the same numbers whichever process or machine runs it, and in any order.
"""
import numpy as np

__all__ = ["stateless_seed"]


def stateless_seed(run_seed: int, *path: int) -> np.ndarray:
    """``[2]`` int32 seed for TF stateless ops, a pure function of ``run_seed`` and ``path``."""
    if run_seed < 0 or any(p < 0 for p in path):
        raise ValueError(f"seeds and path entries must be non-negative, got {run_seed}, {path}")
    words = np.random.SeedSequence(run_seed, spawn_key=tuple(int(p) for p in path)).generate_state(2, np.uint32)
    return words.view(np.int32)
