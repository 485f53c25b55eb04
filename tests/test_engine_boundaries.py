"""The generic engine names no research system: systems live in linksim/systems and models/."""
import ast
import pathlib
import re

import linksim.components  # noqa: F401  (registers every component)
from linksim import registry
from linksim.systems import SYSTEMS

ROOT = pathlib.Path(__file__).resolve().parents[1]
ENGINE = sorted((ROOT / "linksim").glob("*.py"))  # linksim/systems/ excluded
PAPERS = ("jcm", "scdm", "cddm", "amp-sc", "amp_sc", "irsnet", "matk", "he22", "softhe22", "vscc", "disc-med", "disc_med")


def _system_component_names():
    found = set()
    for kind in registry.KINDS:
        for cls in registry.models(kind):
            if cls.__module__.startswith("linksim.systems."):
                found.add(getattr(cls, "model_fields")[registry.tag(kind)].annotation.__args__[0])
    return found


def test_every_system_registers_components_and_the_engine_registers_the_generic_ones():
    modules = {cls.__module__ for kind in registry.KINDS for cls in registry.models(kind)}
    assert {f"linksim.systems.{name}" for name in SYSTEMS} <= modules
    assert {"linksim.sources", "linksim.phy_stages", "linksim.metrics", "linksim.datasets", "linksim.objectives",
            "linksim.bridges"} <= modules
    assert {"jcm_encoder", "scdm_denoiser", "dsm", "amp_encoder", "irsnet", "conv_encoder"} <= _system_component_names()


def test_the_generic_engine_names_no_system_and_imports_no_model():
    words = sorted(_system_component_names() | set(PAPERS))
    pattern = re.compile(r"(?<![A-Za-z0-9_])(" + "|".join(map(re.escape, words)) + r")(?![A-Za-z0-9_])", re.IGNORECASE)
    for path in ENGINE:
        text = path.read_text()
        hits = [m.group(0) for m in pattern.finditer(text)]
        assert not hits, f"{path.name} names system(s) {sorted(set(hits))}"
        for node in ast.walk(ast.parse(text)):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module or ""] if isinstance(node, ast.ImportFrom) else []
            for name in names:
                assert not name.startswith("models") and not name.startswith("linksim.systems."), f"{path.name} imports {name}"
