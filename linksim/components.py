"""The one registration point: importing this module registers every component.

The generic catalogues (sources, PHY stages, source-coding stages, metrics, datasets, objectives, bridges) and every
system's catalogue (:mod:`linksim.systems`) register themselves with :mod:`linksim.registry` on
import; scenarios and ``linksim list`` import this module and nothing else.
"""
import linksim.bridges  # noqa: F401
import linksim.datasets  # noqa: F401
import linksim.metrics  # noqa: F401
import linksim.objectives  # noqa: F401
import linksim.phy_stages  # noqa: F401
import linksim.source_coding_stages  # noqa: F401
import linksim.sources  # noqa: F401
import linksim.systems  # noqa: F401
