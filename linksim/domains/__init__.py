"""Application domains: the components, loaders and metrics of one kind of data or coding.

One subpackage per domain, found on disk (each says in its docstring what it holds): classical
image coding for the separate-coding baselines (:mod:`.imaging`) and medical volumes
(:mod:`.medical`). A domain may import the engine and the catalogue, never the scenario, run
or output packages, never a research system. Each subpackage declares its ``VOCABULARY``: words
that appear nowhere outside it and the research systems (tests/test_engine_boundaries.py).
Importing this package registers every domain's components.
"""
import importlib
import pkgutil

for _module in pkgutil.iter_modules(__path__):
    importlib.import_module(f"{__name__}.{_module.name}")
