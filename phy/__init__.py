"""Sionna-based physical layer of linksim.

Constellations and mapping (:mod:`phy.constellations`), demapping including a fast exact slicer
(:mod:`phy.demapping`), channels (:mod:`phy.channels`), SNR conventions (:mod:`phy.snr`),
quantization and AD/DA (:mod:`phy.quantization`), exact BER (:mod:`phy.ber_theory`), fast BER
counting (:mod:`phy.fast_ber`), BER tables (:mod:`phy.ber_table`), intervals and seeds. Every
block is a ``sionna.phy.Block`` usable on its own in Sionna code. This package knows nothing of
images, learned models or scenarios. Submodules are imported on demand, so importing
``phy.intervals`` or ``phy.seeding`` does not start TensorFlow.
"""
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
