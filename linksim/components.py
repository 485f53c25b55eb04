"""The one registration point: importing this module registers every component.

Each component package registers what it holds when imported: the generic catalogue
(:mod:`linksim.catalogue`), the application domains (:mod:`linksim.domains`, found on disk) and
the research systems (:mod:`linksim.systems`, found on disk). Scenarios and ``linksim list``
import this module; a user's own component module registers itself on import the same way, and
installed packages' entry points (:mod:`linksim.plugins`) load after it, before the scenario schema.
"""
import linksim.catalogue  # noqa: F401
import linksim.domains  # noqa: F401
import linksim.systems  # noqa: F401
