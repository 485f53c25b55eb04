"""Checks of the files a command will write, made before any work starts."""
import os

from linksim.engine.errors import InputError

__all__ = ["output_path", "figure_path"]


def output_path(path: str, what: str) -> str:
    """``path`` if a ``what`` file (e.g. "results") can be written there; ``InputError`` naming why not."""
    if not path:
        raise InputError(f"empty {what} file path")
    if os.path.isdir(path):
        raise InputError(f"{path}: is a directory; expected a {what} file path")
    parent = os.path.dirname(os.path.abspath(path))
    probe = parent
    while not os.path.exists(probe):
        probe = os.path.dirname(probe)
    if not os.path.isdir(probe) or not os.access(probe, os.W_OK):
        raise InputError(f"{path}: cannot write here ({probe} is not a writable directory)")
    return path


def figure_path(path: str) -> str:
    """``path`` if a figure (``.png``, ``.pdf`` or ``.svg``) can be written there."""
    out = output_path(path, "figure")
    if not out.lower().endswith((".png", ".pdf", ".svg")):
        raise InputError(f"{out}: expected a .png, .pdf or .svg file name")
    return out
