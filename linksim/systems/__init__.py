"""Per-system catalogues: each module registers one system's stages, objectives and datasets.

Adding a system means adding a module here (and its layers under ``models/``) and naming it in
:data:`SYSTEMS`; the generic engine never names a system.
"""
import importlib

__all__ = ["SYSTEMS"]

SYSTEMS = ("conv", "scdm", "amp_sc", "vscc", "disc_med")

for _name in SYSTEMS:
    importlib.import_module(f"{__name__}.{_name}")
