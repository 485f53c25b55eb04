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
    if not os.path.isdir(probe) or not os.access(probe, os.W_OK) or not _can_create_in(probe):
        raise InputError(f"{path}: cannot write here ({probe} is not a writable directory)")
    return path


def _can_create_in(directory: str) -> bool:
    """Whether a file can be created in ``directory``: tried with an empty file removed at once (``os.access``
    says yes for /proc and /sys as root)."""
    probe = os.path.join(directory, f".linksim-probe-{os.getpid()}")
    try:
        os.close(os.open(probe, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))
        os.remove(probe)
        return True
    except OSError:
        return False


def figure_path(path: str) -> str:
    """``path`` if a figure (``.png``, ``.pdf`` or ``.svg``) can be written there."""
    out = output_path(path, "figure")
    if not out.lower().endswith((".png", ".pdf", ".svg")):
        raise InputError(f"{out}: expected a .png, .pdf or .svg file name")
    return out
