"""Components from outside linksim: plugin modules and installed entry points.

A plugin is a Python module that registers components on import, exactly as linksim's own
(:func:`linksim.engine.registry.register`). It comes in two ways, both chosen by the user, never by a
scenario file (a scenario is untrusted input and makes linksim import nothing):

- named in a call: ``linksim.load_plugins("mypackage.stages")``, ``linksim.load_scenario(path,
  plugins=[...])``, or ``linksim --plugin mypackage.stages run ...``;
- installed: a package's entry points in the group ``linksim.components`` (``[project.entry-points.
  "linksim.components"] mystages = "mypackage.stages"``), imported with linksim's own components.

The scenario schema's component unions are made when the first scenario is validated, so plugins load
before it; a plugin that registers after that is refused with a one-line error saying so. A scenario
may declare the plugins it needs (``plugins: [mypackage.stages]``): validation checks that each is
loaded and otherwise names it and how to load it. Imports no TensorFlow (a plugin module may).
"""
import importlib
import importlib.metadata
import re
import sys

import linksim.components  # noqa: F401  (linksim's own components first: a plugin cannot take their names)
from linksim.engine.errors import InputError

__all__ = ["ENTRY_POINT_GROUP", "MODULE_PATTERN", "load_plugins", "load_entry_points", "check_declared"]

ENTRY_POINT_GROUP = "linksim.components"
MODULE_PATTERN = r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$"
_LOADED: dict[str, str] = {}  # module name -> how it came ("--plugin" or the entry point's distribution)


def _import(module: str, origin: str) -> None:
    if module in _LOADED:
        return
    if not isinstance(module, str) or not re.match(MODULE_PATTERN, module):
        raise InputError(f"plugin {module!r}: not a Python module name (expected e.g. mypackage.stages)")
    try:
        importlib.import_module(module)
    except ModuleNotFoundError as exc:
        missing = exc.name or module
        raise InputError(f"plugin {module!r} ({origin}): cannot import it: no module named {missing!r} "
                         "(is its package installed in this environment, or on PYTHONPATH?)") from None
    except ValueError as exc:  # the registry refuses a clashing or late registration
        raise InputError(f"plugin {module!r} ({origin}): {exc}") from None
    except Exception as exc:  # noqa: BLE001 - the user's module failed on import: one line naming it
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        raise InputError(f"plugin {module!r} ({origin}): failed on import: {type(exc).__name__}: {first}") from None
    _LOADED[module] = origin


def load_plugins(*modules: str) -> list[str]:
    """Import plugin modules so that the components they register can be used in scenarios.

    Parameters
    ----------
    modules : str
        Module names, e.g. ``"mypackage.stages"``; each is imported once.

    Output
    ------
    list[str], every plugin module loaded so far (entry points included)

    Note
    ----
    Load plugins before the first scenario is validated in this process; ``InputError`` (one line) when
    a module cannot be imported, fails on import, or registers a name that is taken.
    """
    for module in modules:
        _import(module, "--plugin")
    return sorted(_LOADED)


def load_entry_points() -> None:
    """Import the modules that installed packages declare in the entry-point group ``linksim.components``
    (once each; the scenario schema does it before it is made)."""
    for entry in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP):
        dist = getattr(entry.dist, "name", None) or "an installed package"
        _import(entry.value.split(":")[0].strip(), f"entry point {entry.name!r} of {dist}")


def check_declared(data, source: str) -> None:
    """``InputError`` naming the first plugin that a scenario's ``plugins:`` declares and that is not loaded
    (a scenario never imports code itself)."""
    declared = data.get("plugins") if isinstance(data, dict) else None
    if declared is None:
        return
    if not isinstance(declared, list) or not all(isinstance(m, str) and re.match(MODULE_PATTERN, m) for m in declared):
        raise InputError(f"{source}: plugins: expected a list of Python module names (e.g. [mypackage.stages])")
    for module in declared:
        if module not in _LOADED and module not in sys.modules:
            raise InputError(f"{source}: plugins: the scenario needs plugin {module!r}, which is not loaded: pass "
                             f"`--plugin {module}` (Python: linksim.load_plugins({module!r})) or install a package that "
                             f"declares it as a '{ENTRY_POINT_GROUP}' entry point")
