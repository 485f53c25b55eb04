"""Reading scenario files: YAML text → :class:`~linksim.scenario.schema.Scenario`, and back.

The only module that reads YAML, always with PyYAML's safe loader (plain data, no tags that run
code). Every problem becomes an :class:`~linksim.engine.errors.InputError` of one line naming the
file, the key path and what was expected. Before anything is constructed, the document's event stream
is walked once (iteratively) to bound its nesting depth and its size with aliases expanded, since
PyYAML's composer recurses per level and its constructor expands aliases; duplicate keys are refused.
Imports no TensorFlow.
"""
import difflib
import os
import re
from typing import get_args

import yaml
from pydantic import BaseModel, ValidationError

from linksim.engine.errors import InputError
from linksim.engine.registry import KINDS, find, names
from linksim.plugins import check_declared
from linksim.scenario.schema import TAGGED_FIELDS, Scenario

__all__ = ["MAX_FILE_BYTES", "MAX_DEPTH", "MAX_NODES", "description", "load_scenario", "parse_scenario", "read_yaml", "resolved_yaml"]

MAX_FILE_BYTES = 1_000_000
MAX_DEPTH = 64  # nested mappings and lists; the deepest shipped scenario has 6
MAX_NODES = 200_000  # scalars and collections with every alias expanded; the largest shipped scenario has about 2,000


class _DuplicateKey(yaml.MarkedYAMLError):
    """A mapping gives the same key twice."""


class _ScenarioLoader(yaml.SafeLoader):
    """PyYAML's safe loader that refuses duplicate keys (it would keep the last one silently)."""

    def construct_mapping(self, node, deep=False):
        if isinstance(node, yaml.MappingNode):
            seen = set()
            for key_node, _ in node.value:
                if isinstance(key_node, yaml.ScalarNode) and key_node.tag != "tag:yaml.org,2002:merge":
                    if (key_node.tag, key_node.value) in seen:
                        raise _DuplicateKey(None, None, f"duplicate key {key_node.value!r}", key_node.start_mark)
                    seen.add((key_node.tag, key_node.value))
        return super().construct_mapping(node, deep)


def _check_size(text: str, source: str) -> None:
    """``InputError`` where the document nests deeper than :data:`MAX_DEPTH` or holds more than
    :data:`MAX_NODES` nodes once its aliases are expanded (an alias bomb), found from the event stream."""
    anchored, open_collections, nodes = {}, [], 0
    for event in yaml.parse(text, Loader=yaml.SafeLoader):
        if isinstance(event, yaml.CollectionStartEvent):
            open_collections.append([event.anchor, 1])
            if len(open_collections) > MAX_DEPTH:
                raise InputError(f"{source}{_mark(event.start_mark)}: nested deeper than {MAX_DEPTH} levels; not a scenario")
            size = 1
        elif isinstance(event, yaml.CollectionEndEvent):
            anchor, size = open_collections.pop()
            if anchor:
                anchored[anchor] = size
            if open_collections:
                open_collections[-1][1] += size
            continue
        elif isinstance(event, yaml.ScalarEvent):
            size = 1
            if event.anchor:
                anchored[event.anchor] = 1
        elif isinstance(event, yaml.AliasEvent):
            size = anchored.get(event.anchor, 1)
        else:
            continue
        nodes += size
        if open_collections and not isinstance(event, yaml.CollectionStartEvent):
            open_collections[-1][1] += size
        if nodes > MAX_NODES:
            raise InputError(f"{source}{_mark(event.start_mark)}: more than {MAX_NODES} values once its aliases are expanded; "
                             "not a scenario")


def read_yaml(text: str, source: str):
    """Plain data from YAML ``text`` (bounded in depth and size, no duplicate keys, no tags); errors name ``source``."""
    try:
        _check_size(text, source)
        loader = _ScenarioLoader(text)
        try:
            return loader.get_single_data()
        finally:
            loader.dispose()
    except _DuplicateKey as exc:
        raise InputError(f"{source}{_mark(exc.problem_mark)}: {exc.problem}; each key may appear once") from None
    except yaml.constructor.ConstructorError as exc:
        where = _mark(exc.problem_mark)
        raise InputError(f"{source}{where}: unsupported YAML tag {_tag(exc.problem)}; only plain YAML data is accepted") from None
    except yaml.YAMLError as exc:
        where = _mark(getattr(exc, "problem_mark", None))
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise InputError(f"{source}{where}: invalid YAML: {problem}") from None


def _key_path(loc) -> str:
    registered = {n for kind in KINDS for n in names(kind)}
    parts, previous = [], None
    for item in loc:
        if isinstance(item, int):
            parts.append(f"[{item}]")
        elif item in registered and (isinstance(previous, int) or previous in TAGGED_FIELDS):
            pass  # the discriminator tag pydantic inserts for tagged unions
        elif item.startswith("function-") or item in ("list[...]",):
            pass
        else:
            parts.append(("." if parts else "") + item)
        previous = item
    return "".join(parts) or "(top level)"


def _model_at(loc):
    """The parameter model that holds the last key of ``loc`` (a pydantic error location), or ``None``."""
    model = Scenario
    for item in loc[:-1]:
        if isinstance(item, int):
            continue
        fields = getattr(model, "model_fields", {})
        found = [cls for _, cls in find(item)] if item not in fields else []
        if found:  # the discriminator tag of a tagged union: the component's own model
            model = found[0]
            continue
        field = fields.get(item)
        model = _model_in(field.annotation) if field is not None else None
    return model


def _model_in(annotation):
    """The one pydantic model inside an annotation (``X``, ``X | None``, ``list[X]``), else ``None``."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    inner = [m for m in map(_model_in, get_args(annotation)) if m is not None]
    return inner[0] if len(inner) == 1 else None


def _describe(error) -> str:
    kind, msg = error["type"], error["msg"]
    if kind == "extra_forbidden":
        model = _model_at(error["loc"])
        close = difflib.get_close_matches(str(error["loc"][-1]), list(model.model_fields), n=1) if model is not None else []
        return "unknown key" + (f"; did you mean {close[0]!r}?" if close else "")
    if kind == "missing":
        return "missing required key"
    if kind == "union_tag_invalid" or kind == "union_tag_not_found":
        text = msg.replace("Input tag", "type").replace("found using 'type' ", "")
        given = (error.get("ctx") or {}).get("tag")
        expected = re.findall(r"'([^']+)'", (error.get("ctx") or {}).get("expected_tags", ""))
        close = difflib.get_close_matches(str(given), expected, n=1) if given is not None else []
        return text + (f"; did you mean {close[0]!r}?" if close else "")
    msg = msg.removeprefix("Value error, ")
    shown = repr(error.get("input"))
    if len(shown) > 60:
        shown = shown[:57] + "..."
    return f"{msg[0].lower()}{msg[1:]} (got {shown})" if "input" in error and not isinstance(error["input"], (dict, list)) else msg


def parse_scenario(data, source: str = "<scenario>", data_files: bool = True) -> Scenario:
    """Validate already-parsed YAML data; errors name ``source``. ``data_files=False`` leaves the
    dataset's files unchecked (:func:`linksim.catalogue.datasets.checks_data_files`)."""
    if not isinstance(data, dict):
        raise InputError(f"{source}: expected a mapping of keys at the top level, got {type(data).__name__}")
    check_declared(data, source)
    try:
        return Scenario.model_validate(data, context={"data_files": data_files})
    except ValidationError as exc:
        error = exc.errors()[0]
        more = len(exc.errors()) - 1
        suffix = f" (and {more} more problem{'s' if more > 1 else ''})" if more else ""
        raise InputError(f"{source}: {_key_path(error['loc'])}: {_describe(error)}{suffix}") from None


def load_scenario(path, data_files: bool = True) -> Scenario:
    """Read and validate a scenario file; ``InputError`` on any problem (``data_files`` as for :func:`parse_scenario`)."""
    path = os.fspath(path)
    if not os.path.exists(path):
        raise InputError(f"{path}: no such scenario file")
    if not os.path.isfile(path):
        raise InputError(f"{path}: not a regular file")
    if os.path.getsize(path) > MAX_FILE_BYTES:
        raise InputError(f"{path}: larger than {MAX_FILE_BYTES} bytes; not a scenario file")
    try:
        with open(path, "rb") as f:
            text = f.read().decode("utf-8")
    except UnicodeDecodeError:
        raise InputError(f"{path}: not UTF-8 text") from None
    except OSError as exc:
        raise InputError(f"{path}: cannot read ({exc.strerror})") from None
    return parse_scenario(read_yaml(text, path), path, data_files)


def _mark(mark) -> str:
    return f":{mark.line + 1}:{mark.column + 1}" if mark is not None else ""


def _tag(problem) -> str:
    found = re.search(r"tag '([^']*)'", problem or "")
    return repr(found.group(1)) if found else ""


def resolved_yaml(scenario: Scenario) -> str:
    """The scenario with every default filled in (None included: a default of None and an explicit null stay apart), as YAML
    text: stored in results and sent to Ray workers, which validate it again into the same scenario."""
    return yaml.safe_dump(scenario.model_dump(mode="json"), sort_keys=False)




def description(path) -> str:
    """The ``description`` of one of linksim's own scenario files, read without validation (``linksim list
    scenarios``)."""
    with open(path, encoding="utf-8") as f:
        data = read_yaml(f.read(), path)
    return str(data.get("description", "")).strip() if isinstance(data, dict) else ""
