"""One registry from scenario names to components.

A component is a pydantic model of its scenario parameters (its tag field, ``type`` — or
``dataset`` for datasets — holds its registered name) whose ``build`` method makes the runtime
object. Scenarios select components through a tagged union of these models, so an unknown name
is an error that lists the valid names. Parameter models import no TensorFlow, so a scenario is
validated fast and quietly; ``build`` imports what it needs.

Kinds: ``source`` and ``stage`` (links), ``metric``, ``dataset`` (what ``data`` sources and
training read), ``objective`` (a training stage's ``loss``) and ``bridge`` (a training stage's
``channel``: how gradients cross the non-differentiable span). :mod:`linksim.components` imports
every component package, so importing it registers everything; a user's own module registers its
components the same way, before :mod:`linksim.scenario` is imported (the schema's unions are made
then, and a later registration is refused).

The registry also knows who owns each component (:func:`owners`): the generic catalogue, an
application domain or a research system, with the words that name each owner.
"""
import importlib
import re
import sys
from typing import ClassVar

from pydantic import BaseModel, ConfigDict

__all__ = ["KINDS", "NAME_PATTERN", "TAGS", "tag", "Params", "register", "freeze", "names", "models", "catalogue", "find", "parameters", "summary",
           "owner_of", "owners"]

KINDS = ("source", "stage", "metric", "dataset", "objective", "bridge")
NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.+-]{0,63}$"  # names that become file, group or figure names: no '/', no leading '.'

TAGS = {"dataset": "dataset"}  # the tag field of a kind, where it is not "type"
OWNER_PACKAGES = ("linksim.domains", "linksim.systems")  # packages whose modules own their components and words
_REGISTRY: dict[str, dict[str, type["Params"]]] = {kind: {} for kind in KINDS}
_FROZEN: set[str] = set()  # kinds whose scenario union exists already


class Params(BaseModel):
    """Base of all scenario parameter models: unknown keys and NaN/inf are rejected."""

    model_config = ConfigDict(extra="forbid", strict=True, allow_inf_nan=False, frozen=True)

    added_later: ClassVar[dict] = {}  # parameters added after checkpoints existed: {name: default}, hashed only when not default
    evaluation_only: ClassVar[tuple[str, ...]] = ()  # parameters that do not change trained weights: never hashed


def register(kind: str, name: str):
    """Class decorator: register a ``Params`` subclass under ``kind``/``name``.

    The first line of the class docstring is the summary shown by ``linksim list``.
    """
    if kind not in KINDS:
        raise ValueError(f"unknown component kind {kind!r}")
    if kind in _FROZEN:
        raise ValueError(f"{kind} {name!r} registered after the scenario schema was built: import the module that "
                         "registers it before linksim.scenario")

    def decorate(cls):
        if name in _REGISTRY[kind]:
            raise ValueError(f"{kind} {name!r} is registered twice")
        _REGISTRY[kind][name] = cls
        return cls

    return decorate


def freeze(kind: str) -> None:
    """Refuse further registrations of ``kind`` (its scenario union is being made)."""
    _FROZEN.add(kind)


def tag(kind: str) -> str:
    """The field that holds a component's registered name in scenarios."""
    return TAGS.get(kind, "type")


def names(kind: str) -> list[str]:
    return sorted(_REGISTRY[kind])


def models(kind: str) -> list[type[Params]]:
    """Parameter models of one kind, in name order (the members of a scenario's tagged union)."""
    return [_REGISTRY[kind][n] for n in names(kind)]


def summary(cls) -> str:
    """The first paragraph of a component's docstring as one line, without RST markup."""
    text = (cls.__doc__ or "").strip().split("\n\n")[0]
    text = re.sub(r":[a-z]+:`~?([^`]+)`", r"\1", text).replace("``", "").replace("`", "")
    return " ".join(text.split())


def catalogue() -> dict[str, list[tuple[str, str]]]:
    """``{kind: [(name, summary), ...]}`` for ``linksim list``."""
    return {kind: [(n, summary(_REGISTRY[kind][n])) for n in names(kind)] for kind in KINDS}


def find(name: str) -> list[tuple[str, type["Params"]]]:
    """``[(kind, class)]`` of the components registered under ``name`` (a name may serve two kinds)."""
    return [(kind, _REGISTRY[kind][name]) for kind in KINDS if name in _REGISTRY[kind]]


def parameters(kind: str, cls) -> list[tuple[str, str, str, str]]:
    """``[(name, type, default, constraints)]`` of a component's scenario parameters (its tag field left
    out), read from the same pydantic model that validates scenarios."""
    rows = []
    for field, info in cls.model_fields.items():
        if field == tag(kind):
            continue
        annotation = re.sub(r"<class '([^']+)'>", r"\1", str(info.annotation)).replace("typing.", "")
        default = "required" if info.is_required() else repr(info.get_default(call_default_factory=True))
        limits = [f"{symbol} {getattr(m, attr)}" for m in info.metadata for attr, symbol in
                  (("gt", ">"), ("ge", "≥"), ("lt", "<"), ("le", "≤"), ("min_length", "min length"), ("max_length", "max length"),
                   ("multiple_of", "multiple of"), ("pattern", "pattern")) if getattr(m, attr, None) is not None]
        rows.append((field, annotation, default, ", ".join(limits)))
    return rows


def owner_of(cls) -> str | None:
    """The domain or system that owns a registered class (``"domains.<name>"``, ``"systems.<name>"``),
    or ``None`` for the generic catalogue and components registered from outside linksim."""
    for package in OWNER_PACKAGES:
        if cls.__module__.startswith(package + "."):
            return ".".join(cls.__module__.split(".")[1:3])
    return None


def owners() -> dict[str, set[str]]:
    """``{owner: words}`` for every domain and system that registered a component: its registered names
    and the ``VOCABULARY`` its module declares. These words belong to the owner and to the
    learned layers under ``linksim.models``; the engine and the catalogue never use them."""
    out: dict[str, set[str]] = {}
    for kind in KINDS:
        for name, cls in _REGISTRY[kind].items():
            owner = owner_of(cls)
            if owner is None:
                continue
            words = out.setdefault(owner, set())
            words.add(name)
            module = sys.modules.get(f"linksim.{owner}") or importlib.import_module(f"linksim.{owner}")
            words.update(getattr(module, "VOCABULARY", ()))
    return out
