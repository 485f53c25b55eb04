"""The package structure holds: layers import only downwards, no import circle, every word of a
research system or an application domain stays in its own package, validation imports no
TensorFlow, the import names never merge with a user's own `models` or `phy`, and a system added
from a module of its own runs without an engine file edited."""
import ast
import os
import pathlib
import re
import subprocess
import sys

import linksim.components  # noqa: F401  (registers every component)
from linksim.engine import registry
from linksim.systems import SYSTEMS

ROOT = pathlib.Path(__file__).resolve().parents[1]
FOLDERS = {"linksim": ROOT / "linksim", "linksim.phy": ROOT / "phy", "linksim.models": ROOT / "models",
           "linksim.scenarios": ROOT / "scenarios"}

# Layers from the bottom: a module imports modules of its own layer or below, never above.
LAYERS = [
    ("linksim.scenarios",),  # data: the shipped scenario files
    ("linksim.phy",),
    ("linksim.models",),
    ("linksim.engine",),
    ("linksim.catalogue",),
    ("linksim.domains",),
    ("linksim.systems",),
    ("linksim.components",),
    ("linksim.plugins",),
    ("linksim.scenario",),
    ("linksim.run",),
    ("linksim.output",),
    ("linksim.cli", "linksim.cli_arguments", "linksim.__main__", "linksim", "linksim.workflow"),
]


def _modules():
    """{module name: path} of every module of the installed packages."""
    found = {}
    for package, folder in FOLDERS.items():
        for path in folder.rglob("*.py"):
            parts = list(path.relative_to(folder).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts = parts[:-1]
            name = ".".join([package, *parts])
            if package == "linksim" and (name.startswith("linksim.phy") or name.startswith("linksim.models")):
                continue
            found[name] = path
    return found


MODULES = _modules()


def _imports(name, path):
    """linksim modules that ``name`` imports anywhere (module level or inside functions)."""
    out = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            targets = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
        else:
            continue
        out |= {t for t in targets if t in MODULES and t != name}
    return out


def _layer(module):
    for depth, prefixes in reversed(list(enumerate(LAYERS))):
        if any(module == p or module.startswith(p + ".") for p in prefixes if p != "linksim") or module == "linksim":
            return depth
    raise AssertionError(f"{module} is in no layer")


def test_every_module_belongs_to_a_layer_and_imports_only_downwards():
    for name, path in MODULES.items():
        for target in _imports(name, path):
            assert _layer(target) <= _layer(name), f"{name} (layer {_layer(name)}) imports {target} (layer {_layer(target)})"


def test_there_is_no_import_circle():
    graph = {name: _imports(name, path) for name, path in MODULES.items()}
    # An import of a package runs its __init__: count it as an edge to the package.
    state, stack = {}, []

    def visit(node):
        state[node] = "open"
        stack.append(node)
        for target in sorted(graph[node]):
            if state.get(target) == "open":
                cycle = stack[stack.index(target):] + [target]
                raise AssertionError("import circle: " + " → ".join(cycle))
            if target not in state:
                visit(target)
        stack.pop()
        state[node] = "done"

    for node in sorted(graph):
        if node not in state:
            visit(node)


def test_every_package_folder_is_installed():
    listed = re.search(r"^packages = \[(.*?)\]", (ROOT / "pyproject.toml").read_text(), re.S | re.M).group(1)
    packages = set(re.findall(r'"([a-z_.]+)"', listed))
    folders = {name for name, path in MODULES.items() if path.name == "__init__.py"}
    assert packages == folders


def test_every_system_is_found_on_disk_and_registers_components():
    on_disk = sorted(p.stem for p in (ROOT / "linksim" / "systems").glob("*.py") if p.stem != "__init__")
    assert list(SYSTEMS) == on_disk
    owners = registry.owners()
    assert {f"systems.{name}" for name in SYSTEMS} <= set(owners)
    assert {"domains.imaging", "domains.medical"} <= set(owners)
    generic = {registry.owner_of(cls) for kind in registry.KINDS for cls in registry.models(kind)
               if cls.__module__.startswith("linksim.catalogue.")}
    assert generic == {None}
    assert {"jcm_encoder", "scdm_denoiser", "dsm", "amp_encoder", "irsnet", "conv_encoder"} <= set().union(*owners.values())


def _words_found(words, path):
    pattern = re.compile(r"(?<![A-Za-z0-9_.])(" + "|".join(map(re.escape, sorted(words))) + r")(?![A-Za-z0-9_])", re.IGNORECASE)
    return sorted({m.group(0) for m in pattern.finditer(path.read_text())})


def _allowed(module, owner):
    """Where an owner's words may appear: its own package, the research systems (which build on the
    domains) and the learned layers."""
    own = f"linksim.{owner}"
    return (module == own or module.startswith(own + ".") or module.startswith("linksim.models")
            or (owner.startswith("domains.") and module.startswith("linksim.systems")))


def test_system_and_domain_words_stay_in_their_packages():
    owners = registry.owners()
    for owner, words in owners.items():
        for module, path in MODULES.items():
            if not _allowed(module, owner):
                found = _words_found(words, path)
                assert not found, f"{path.relative_to(ROOT)} uses {found}, words of {owner}"


def _python(code, cwd):
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    env.pop("PYTHONPATH", None)
    return subprocess.run([sys.executable, "-c", code], cwd=cwd, env=env, capture_output=True, text=True, timeout=600)


def test_validating_the_shipped_scenarios_imports_no_tensorflow():
    code = ("import glob, sys\n"
            "from linksim.scenario import load_scenario\n"
            "from linksim.engine.errors import InputError\n"
            "checked = 0\n"
            "for path in sorted(glob.glob('scenarios/*.yaml')):\n"
            "    try:\n"
            "        load_scenario(path)\n"
            "        checked += 1\n"
            "    except InputError as exc:\n"
            "        assert 'no such folder' in str(exc) or 'no folder' in str(exc), exc  # paper-scale data a user owns\n"
            "assert checked >= 10, checked\n"
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('tensorflow', 'sionna', 'keras')))\n")
    result = _python(code, ROOT)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip() == "[]"


def test_linksim_works_beside_a_users_own_models_and_phy_packages(tmp_path):
    for package in ("models", "phy"):
        (tmp_path / package).mkdir()
        (tmp_path / package / "__init__.py").write_text("OWNER = 'user'\n")
    (tmp_path / "scenario.yaml").write_text(
        "name: beside\nsnr: {convention: esno, values: [4.0]}\n"
        "montecarlo: {batch_size: 64, max_samples: 64, target_errors: null, execution: eager}\n"
        "curves:\n  - name: coded\n    source: {type: bits, num_bits: 64}\n"
        "    stages: [{type: mapper, modulation: qpsk}, {type: awgn}, {type: slicer, modulation: qpsk}]\n")
    code = ("import models, phy, sys\n"
            "import linksim.models.conv, linksim.phy.channels\n"
            "from linksim.cli import main\n"
            "assert models.OWNER == phy.OWNER == 'user'\n"
            "assert not hasattr(models, 'conv') and not hasattr(phy, 'channels')\n"
            "sys.exit(main(['run', 'scenario.yaml', '--out', 'r.h5', '--quiet']))\n")
    result = _python(code, tmp_path)
    assert result.returncode == 0, result.stderr[-2000:]
    assert (tmp_path / "r.csv").read_text().startswith("curve,snr_db")
    assert str(tmp_path) not in _python("import linksim.models; print(linksim.models.__file__)", tmp_path).stdout


TOY_SYSTEM = '''
"""A toy system registered from a module of its own: a stage that scales real samples by a gain."""
from typing import Literal

from pydantic import Field

from linksim.engine.registry import register
from linksim.engine.stage import StageParams, make_stage


@register("stage", "toy_gain")
class ToyGainParams(StageParams):
    """Multiplies its input by ``gain``."""

    type: Literal["toy_gain"]
    gain: float = Field(default=1.0, gt=0)

    def build(self, context):
        return make_stage(self, None, lambda x, ctx: self.gain * x)
'''


def test_a_toy_system_registered_from_its_own_module_runs_without_an_engine_file_edited(tmp_path):
    (tmp_path / "toy_system.py").write_text(TOY_SYSTEM)
    (tmp_path / "toy.yaml").write_text(
        "name: toy\nsnr: {convention: snr, values: [0.0]}\n"
        "montecarlo: {batch_size: 1000, max_samples: 2000, target_errors: null, execution: graph}\n"
        "curves:\n  - name: gain\n    source: {type: gaussian, size: 100}\n"
        "    stages: [{type: toy_gain, gain: 1.5}]\n"
        "    metrics: [{type: mse, sent: latent, received: output}]\n")
    code = ("import sys\nsys.path.insert(0, '.')\n"
            "import toy_system\n"
            "from linksim.cli import main\n"
            "sys.exit(main(['run', 'toy.yaml', '--out', 'r.h5', '--quiet']))\n")
    result = _python(code, tmp_path)
    assert result.returncode == 0, result.stderr[-2000:]
    rows = [line.split(",") for line in (tmp_path / "r.csv").read_text().splitlines()[1:]]
    mse = float(next(r for r in rows if r[3] == "mse")[4])
    assert abs(mse - 0.25) < 0.25 * 0.05  # (1.5 − 1)² × the unit variance of the source, over 200 000 values
    late = _python("import linksim.scenario\nfrom linksim.engine.registry import register\n"
                   "register('stage', 'too_late')(object)", tmp_path)
    assert "registered after the scenario schema was built" in late.stderr


def test_linksim_phy_exports_exactly_what_its_modules_declare():
    """``linksim.phy``'s table of public names is every module's ``__all__``, each under the module that
    defines it (a re-export, e.g. ``MODULATIONS`` in constellations, counts once): nothing drifts."""
    import importlib

    import linksim.phy as phy

    declared = {}
    for module in phy._MODULES:
        for name in importlib.import_module(f"linksim.phy.{module}").__all__:
            declared.setdefault(name, set()).add(module)
    assert set(phy.__all__) == set(declared)
    for name in phy.__all__:
        assert phy._WHERE[name] in declared[name]
        assert getattr(importlib.import_module(f"linksim.phy.{phy._WHERE[name]}"), name) is getattr(phy, name)
