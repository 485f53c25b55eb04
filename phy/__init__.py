"""Sionna-based physical layer of linksim, imported as ``linksim.phy``.

Constellations and mapping (:mod:`.constellations`), demapping including a fast exact slicer and
per-axis soft demapper (:mod:`.demapping`), channels (:mod:`.channels`), SNR conventions (:mod:`.snr`), quantization and
AD/DA (:mod:`.quantization`), 5G channel codes block by block (:mod:`.coding`) and a fast 5G LDPC
decoder (:mod:`.ldpc_decoding`), OFDM over 3GPP fading with channel estimation (:mod:`.ofdm`), a fixed interleaver
(:mod:`.interleaving`), exact BER (:mod:`.ber_theory`), fast BER counting (:mod:`.fast_ber`), BER
tables (:mod:`.ber_table`), intervals and seeds. Every block is a ``sionna.phy.Block`` usable on
its own in Sionna code. This package knows nothing of images, learned models, scenarios or any
research system.

The public names are importable from here (``from linksim.phy import AWGN, make_constellation``).
The table below names every one, under the module that defines it, and each module is imported on
first use: so importing ``linksim.phy`` (or ``linksim.phy.snr``) does not start TensorFlow, which keeps
scenario validation fast. A test checks that the table holds exactly the modules' ``__all__``.
"""
import importlib
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

_MODULES = ("ber_table", "ber_theory", "channels", "code_limits", "coding", "constellations", "demapping", "fast_ber", "interleaving",
            "intervals", "ldpc_decoding", "modulations", "ofdm", "quantization", "bit_source", "seeding", "snr", "transitions")
_PUBLIC = {  # every name in a module's __all__, under the module that defines it (tests/test_engine_boundaries.py checks it)
    "modulations": ("MODULATIONS", "ModulationInfo", "modulation_info"),
    "constellations": ("make_constellation", "axis_labels", "constellation_points"),
    "demapping": ("SlicerDemapper", "AxisDemapper", "slice_axis", "Demapper", "SymbolDemapper"),
    "channels": ("AWGN", "RealAWGN", "RayleighBlockFading", "BinarySymmetricChannel", "LabelChannel", "symmetric_transition",
                 "draw_labels", "complex_normal", "random_erasure", "normal", "uniform"),
    "snr": ("CONVENTIONS", "noise_variance", "ebno_db_to_esno_db", "esno_db_to_ebno_db", "normalize_power", "snr_grid"),
    "quantization": ("UniformQuantizer", "IntegerToBits", "BitsToInteger", "SoftQuantizationNoise", "pad_to_multiple",
                     "straight_through_round"),
    "coding": ("BlockEncoder", "BlockDecoder"),
    "ldpc_decoding": ("QCLDPC5GDecoder", "quasi_cyclic_structure", "CHECK_NODE_RULES", "SCHEDULES"),
    "ofdm": ("OFDMFadingChannel", "make_resource_grid", "make_channel_model", "energy_overhead", "CHANNEL_MODELS", "TDL_PROFILES",
             "CDL_PROFILES", "ESTIMATORS", "INTERPOLATIONS", "EQUALIZERS"),
    "code_limits": ("CODES", "code_error"),
    "interleaving": ("FixedInterleaver",),
    "ber_theory": ("ber_awgn", "ber_awgn_per_bit", "q_function", "ber_rayleigh", "ber_rayleigh_per_bit", "ber_awgn_textbook"),
    "ber_table": ("BerTable", "CSV_HEADER"),
    "fast_ber": ("HardDecisionBERCounter",),
    "bit_source": ("random_bits", "BinarySource"),
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
