"""linksim: end-to-end digital semantic communication link simulator on Sionna.

Subpackages, from the bottom up (each one's docstring says what belongs there):
``linksim.phy`` (Sionna blocks, no images or models), ``linksim.models`` (Keras layers of the
learned parts), ``linksim.engine`` (registry, stages, links, statistics), ``linksim.catalogue``
(generic components), ``linksim.domains`` (application domains), ``linksim.systems`` (research
systems), ``linksim.scenario`` (schema, YAML, building), ``linksim.run`` (training, checkpoints,
Monte Carlo), ``linksim.output`` (results, tables, plots) and the ``linksim`` command
(:mod:`linksim.cli`).
"""

__version__ = "0.1.0"
