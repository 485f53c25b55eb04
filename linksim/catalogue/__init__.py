"""The generic components a scenario names: sources, PHY stages, metrics, datasets, training
objectives and bridges.

A new generic stage, metric, dataset, objective or bridge goes in the module of its kind; a
component that belongs to an application domain (medical volumes, classical image coding) goes under
:mod:`linksim.domains`, one that belongs to a research system under :mod:`linksim.systems`.
Modules here import :mod:`linksim.engine` (and, inside ``build``, ``linksim.phy`` and TensorFlow);
they never import the scenario, run or output packages. Importing this package registers every
component in it.
"""
from linksim.catalogue import bridges, datasets, metrics, objectives, ofdm_stages, phy_stages, sources  # noqa: F401
