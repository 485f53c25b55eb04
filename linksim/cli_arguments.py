"""Argument types of the ``linksim`` command line: each turns one option's text into a value, or
raises ``argparse.ArgumentTypeError`` with what was expected."""
import argparse

__all__ = ["metric_target", "snr_window", "snr_range", "epoch_seconds"]


def _name_and_number(text: str) -> tuple[str, float]:
    """``NAME=NUMBER`` split at its last ``=`` (NAME may be empty); the number nan where it is none."""
    name, _, value = text.rpartition("=")
    try:
        return name, float(value)
    except ValueError:
        return name, float("nan")


def metric_target(text: str):
    """``METRIC=VALUE`` of ``compare --at``."""
    import math

    name, number = _name_and_number(text)
    if not name or not math.isfinite(number):
        raise argparse.ArgumentTypeError(f"expected METRIC=VALUE (e.g. psnr=25 or ber=1e-4), got {text!r}")
    return name, number


def snr_window(text: str):
    import numpy as np

    try:
        low, high = (float(v) for v in text.split(":"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected LOW:HIGH in dB, got {text!r}") from None
    if not np.all(np.isfinite([low, high])) or high < low:
        raise argparse.ArgumentTypeError(f"expected finite LOW ≤ HIGH, got {text!r}") from None
    return low, high


def snr_range(text: str):
    import numpy as np

    from linksim.phy.snr import snr_grid

    try:
        start, stop, step = (float(v) for v in text.split(":"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected START:STOP:STEP in dB, got {text!r}") from None
    if not all(np.isfinite([start, stop, step])) or step <= 0 or stop < start or (stop - start) / step > 10_000:
        raise argparse.ArgumentTypeError(f"expected finite START ≤ STOP and 0 < STEP (at most 10000 points), got {text!r}")
    return snr_grid(start, stop, step)


def epoch_seconds(text: str):
    """``[CURVE=]SECONDS`` of ``train --plan --epoch-seconds``: (curve name or ``*``, seconds per epoch)."""
    import math

    name, seconds = _name_and_number(text)
    if not math.isfinite(seconds) or seconds <= 0:
        raise argparse.ArgumentTypeError(f"expected [CURVE=]SECONDS with SECONDS > 0 (e.g. 40 or codec=40), got {text!r}")
    return name or "*", seconds
