"""One registry from scenario names to components.

A component is a pydantic model of its scenario parameters (its tag field, ``type`` — or
``dataset`` for datasets — holds its registered name) whose ``build`` method makes the runtime
object. Scenarios select components through a tagged union of these models, so an unknown name
is an error that lists the valid names. Parameter models import no TensorFlow, so a scenario is
validated fast and quietly; ``build`` imports what it needs.

Kinds: ``source`` and ``stage`` (links), ``metric``, ``dataset`` (what ``data`` sources and
training read), ``objective`` (a training stage's ``loss``) and ``bridge`` (a training stage's
``channel``: how gradients cross the non-differentiable span). :mod:`linksim.components` imports
every catalogue module, so importing it registers everything.
"""
from pydantic import BaseModel, ConfigDict

__all__ = ["KINDS", "TAGS", "tag", "Params", "register", "names", "models", "catalogue"]

KINDS = ("source", "stage", "metric", "dataset", "objective", "bridge")
TAGS = {"dataset": "dataset"}  # the tag field of a kind, where it is not "type"
_REGISTRY: dict[str, dict[str, type["Params"]]] = {kind: {} for kind in KINDS}


class Params(BaseModel):
    """Base of all scenario parameter models: unknown keys and NaN/inf are rejected."""

    model_config = ConfigDict(extra="forbid", strict=True, allow_inf_nan=False, frozen=True)


def register(kind: str, name: str):
    """Class decorator: register a ``Params`` subclass under ``kind``/``name``.

    The first line of the class docstring is the summary shown by ``linksim list``.
    """
    if kind not in KINDS:
        raise ValueError(f"unknown component kind {kind!r}")

    def decorate(cls):
        if name in _REGISTRY[kind]:
            raise ValueError(f"{kind} {name!r} is registered twice")
        _REGISTRY[kind][name] = cls
        return cls

    return decorate


def tag(kind: str) -> str:
    """The field that holds a component's registered name in scenarios."""
    return TAGS.get(kind, "type")


def names(kind: str) -> list[str]:
    return sorted(_REGISTRY[kind])


def models(kind: str) -> list[type[Params]]:
    """Parameter models of one kind, in name order (the members of a scenario's tagged union)."""
    return [_REGISTRY[kind][n] for n in names(kind)]


def catalogue() -> dict[str, list[tuple[str, str]]]:
    """``{kind: [(name, summary), ...]}`` for ``linksim list``."""
    out = {}
    for kind in KINDS:
        out[kind] = [(n, (_REGISTRY[kind][n].__doc__ or "").strip().splitlines()[0]) for n in names(kind)]
    return out
