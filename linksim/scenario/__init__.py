"""Scenarios: the schema of a scenario file (:mod:`.schema`), reading and writing it
(:mod:`.loading`, the only place that parses YAML) and building a curve's runtime link
(:mod:`.building`).

Imports the engine and the registered components (:mod:`linksim.components`); the run, output and
command-line layers import it. Validation imports no TensorFlow.
"""
import linksim.components  # noqa: F401  (registers every component before the schema is built)
from linksim.scenario.building import BuildContext, build_curve, carried_shape
from linksim.scenario.loading import load_scenario, parse_scenario, resolved_yaml
from linksim.scenario.schema import Curve, Scenario

__all__ = ["BuildContext", "Curve", "Scenario", "build_curve", "carried_shape", "load_scenario", "parse_scenario", "resolved_yaml"]
