"""Sionna-based physical layer of linksim.

Constellations and mapping (:mod:`linksim.phy.constellations`), demapping including a fast exact slicer
(:mod:`linksim.phy.demapping`), channels (:mod:`linksim.phy.channels`), SNR conventions (:mod:`linksim.phy.snr`),
quantization and AD/DA (:mod:`linksim.phy.quantization`), exact BER (:mod:`linksim.phy.ber_theory`), fast BER
counting (:mod:`linksim.phy.fast_ber`), BER tables (:mod:`linksim.phy.ber_table`), intervals and seeds. Every
block is a ``sionna.phy.Block`` usable on its own in Sionna code. This package knows nothing of
images, learned models or scenarios. Submodules are imported on demand, so importing
``linksim.phy.intervals`` or ``linksim.phy.seeding`` does not start TensorFlow.
"""
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
