"""Sionna-based physical layer of linksim.

Constellations and mapping, demapping (soft, hard, fast Gray slicing), channels, SNR
conventions, quantization and bit conversion, closed-form and measured BER tables.
Every block is a ``sionna.phy.Block`` usable on its own in Sionna code. This package knows
nothing of images, learned models or scenarios.
"""
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from phy.constellations import MODULATIONS, make_constellation, modulation_info  # noqa: E402
from phy.snr import (  # noqa: E402
    CONVENTIONS,
    ebno_db_to_esno_db,
    esno_db_to_ebno_db,
    noise_variance,
    normalize_power,
)

__all__ = [
    "CONVENTIONS",
    "MODULATIONS",
    "ebno_db_to_esno_db",
    "esno_db_to_ebno_db",
    "make_constellation",
    "modulation_info",
    "noise_variance",
    "normalize_power",
]
