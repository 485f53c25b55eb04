"""Research systems: one module per system registers its stages, objectives, metrics and datasets.

A system's learned layers live in ``models/`` (imported as ``linksim.models``); its module here
describes them to scenarios (parameters, checks, how to build, how to train) and declares its
``VOCABULARY`` (the words that name it, which appear nowhere in the engine). Modules are found on
disk, so adding a system is adding a file: nothing lists them. Systems may import the engine,
the catalogue and the domains; nothing but the registration imports a system.
"""
import importlib
import pkgutil

__all__ = ["SYSTEMS"]

SYSTEMS = tuple(sorted(module.name for module in pkgutil.iter_modules(__path__)))

for _name in SYSTEMS:
    importlib.import_module(f"{__name__}.{_name}")
