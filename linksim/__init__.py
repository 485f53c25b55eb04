"""linksim: end-to-end digital semantic communication link simulator on Sionna.

The Python API (``docs/python-api.md``)::

    import linksim
    scenario = linksim.load_scenario("quickstart")       # a file, a shipped scenario's name, or a dict
    results = scenario.run()                              # train what is untrained, sweep, write results
    link = scenario.link("learned-16qam")                 # a Sionna Block: link(batch_size, snr_db)
    results = linksim.Results.load("results/quickstart.h5")

Subpackages, from the bottom up (each one's docstring says what belongs there):
``linksim.phy`` (Sionna blocks, no images or models), ``linksim.models`` (Keras layers of the
learned parts), ``linksim.engine`` (registry, stages, links, statistics), ``linksim.catalogue``
(generic components), ``linksim.domains`` (application domains), ``linksim.systems`` (research
systems), ``linksim.scenario`` (schema, YAML, building), ``linksim.run`` (training, checkpoints,
Monte Carlo), ``linksim.output`` (results, tables, plots), the workflow (:mod:`linksim.workflow`)
and the ``linksim`` command (:mod:`linksim.cli`). Importing ``linksim`` imports no TensorFlow.
"""
from linksim.engine.errors import InputError, LinksimError
from linksim.output.results import Results
from linksim.plugins import load_plugins
from linksim.workflow import Scenario, load_model, load_scenario, shipped_scenarios

__version__ = "0.1.0"

__all__ = ["InputError", "LinksimError", "Results", "Scenario", "load_model", "load_plugins", "load_scenario", "shipped_scenarios",
           "__version__"]
