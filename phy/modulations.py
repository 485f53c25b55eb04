"""Modulation names and what they mean; pure Python, so scenarios validate without TensorFlow."""
from dataclasses import dataclass

__all__ = ["MODULATIONS", "ModulationInfo", "modulation_info"]


@dataclass(frozen=True)
class ModulationInfo:
    """What a modulation name means: Sionna's constellation type and bits per symbol."""

    name: str
    constellation_type: str  # "qam" or "pam"
    num_bits_per_symbol: int

    @property
    def num_axes(self) -> int:
        """1 for PAM/BPSK (real-valued points), 2 for QAM (I and Q)."""
        return 2 if self.constellation_type == "qam" else 1

    @property
    def bits_per_axis(self) -> int:
        return self.num_bits_per_symbol // self.num_axes


MODULATIONS = {
    "bpsk": ModulationInfo("bpsk", "pam", 1),
    "pam4": ModulationInfo("pam4", "pam", 2),
    "pam8": ModulationInfo("pam8", "pam", 3),
    "qpsk": ModulationInfo("qpsk", "qam", 2),
    "qam16": ModulationInfo("qam16", "qam", 4),
    "qam64": ModulationInfo("qam64", "qam", 6),
    "qam256": ModulationInfo("qam256", "qam", 8),
}


def modulation_info(modulation: str) -> ModulationInfo:
    """Look up a modulation name; raises ``ValueError`` listing the valid names."""
    try:
        return MODULATIONS[modulation]
    except KeyError:
        raise ValueError(
            f"unknown modulation {modulation!r}; expected one of {', '.join(MODULATIONS)}"
        ) from None
