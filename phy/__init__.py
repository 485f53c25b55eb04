"""Sionna-based physical layer of linksim, imported as ``linksim.phy``.

Constellations and mapping (:mod:`.constellations`), demapping including a fast exact slicer
(:mod:`.demapping`), channels (:mod:`.channels`), SNR conventions (:mod:`.snr`), quantization and
AD/DA (:mod:`.quantization`), 5G channel codes block by block (:mod:`.coding`), OFDM over 3GPP fading with channel estimation (:mod:`.ofdm`), a fixed interleaver
(:mod:`.interleaving`), exact BER (:mod:`.ber_theory`), fast BER counting (:mod:`.fast_ber`), BER
tables (:mod:`.ber_table`), intervals and seeds. Every block is a ``sionna.phy.Block`` usable on
its own in Sionna code. This package knows nothing of images, learned models, scenarios or any
research system.

The public names are importable from here (``from linksim.phy import AWGN, make_constellation``);
each is loaded on first use, so importing ``linksim.phy`` (or ``linksim.phy.intervals``) does not
start TensorFlow.
"""
import importlib
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

_MODULES = ("ber_table", "ber_theory", "channels", "code_limits", "coding", "constellations", "demapping", "fast_ber", "interleaving",
            "intervals", "modulations", "ofdm", "quantization", "random_bits", "seeding", "snr", "transitions")
_PUBLIC = {
    "constellations": ("make_constellation", "axis_labels", "modulation_info", "MODULATIONS"),
    "demapping": ("SlicerDemapper", "slice_axis"),
    "channels": ("AWGN", "RealAWGN", "RayleighBlockFading", "BinarySymmetricChannel", "LabelChannel", "symmetric_transition",
                 "draw_labels", "complex_normal", "random_erasure"),
    "snr": ("CONVENTIONS", "noise_variance", "ebno_db_to_esno_db", "esno_db_to_ebno_db", "normalize_power", "snr_grid"),
    "quantization": ("UniformQuantizer", "IntegerToBits", "BitsToInteger", "SoftQuantizationNoise"),
    "coding": ("BlockEncoder", "BlockDecoder"),
    "ofdm": ("OFDMFadingChannel", "make_resource_grid", "make_channel_model", "energy_overhead"),
    "code_limits": ("code_error",),
    "interleaving": ("FixedInterleaver",),
    "ber_theory": ("ber_awgn", "ber_awgn_per_bit", "q_function"),
    "ber_table": ("BerTable",),
    "fast_ber": ("HardDecisionBERCounter",),
    "random_bits": ("random_bits", "BinarySource"),
    "intervals": ("clopper_pearson", "wilson", "mean_interval", "binomial_interval"),
    "seeding": ("stateless_seed",),
    "transitions": ("check_transition",),
}
_WHERE = {name: module for module, names in _PUBLIC.items() for name in names}

__all__ = sorted(_WHERE)


def __getattr__(name):
    if name in _WHERE:
        return getattr(importlib.import_module(f"{__name__}.{_WHERE[name]}"), name)
    if name in _MODULES:
        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(__all__) | set(_MODULES))
