"""Property: every mutated scenario ends in one line on stderr, exit 2, no traceback, no output.

Hypothesis applies one mutation that always makes a scenario invalid — unknown key, missing
required key, wrong type, NaN/inf, out-of-range or huge number, broken YAML, a Python YAML tag,
a wrong top-level type — to one of several valid scenarios, at a random place.
"""
import copy
import json
import os
import pathlib

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from linksim.cli import main
from tests.conftest import tiny_scenario

VALID = [
    tiny_scenario(),
    {"name": "learned", "seed": 2, "data": {"dataset": "bundled-photos", "patch_size": 16, "shuffle": False},
     "snr": {"convention": "esno", "values": [0.0, 10.0]}, "montecarlo": {"batch_size": 8, "max_samples": 16},
     "curves": [{"name": "codec", "source": {"type": "images"},
                 "stages": [{"type": "conv_encoder", "latent_channels": 2, "filters": 4}, {"type": "quantizer", "num_bits": 2},
                            {"type": "dequantizer", "num_bits": 2}, {"type": "conv_decoder", "latent_channels": 2, "filters": 4}],
                 "metrics": [{"type": "psnr"}, {"type": "ssim"}],
                 "training": {"rounds": 2, "stages": [{"name": "s", "train": ["latent"], "steps": 1, "batch_size": 4,
                                                       "learning_rate": 0.001, "snr": {"low": 0.0, "high": 5.0}}]}}]},
    {"name": "labels", "snr": {"convention": "esno", "values": [1.0, 2.0]},
     "curves": [{"name": "l", "source": {"type": "labels", "num_labels": 64, "num_classes": 4},
                 "stages": [{"type": "label_channel", "transition": [[0.9, 0.1], [0.2, 0.8]]}],
                 "metrics": [{"type": "ser"}]}]},
    {"name": "analog", "seed": 3, "snr": {"convention": "snr", "start": -5.0, "stop": 5.0, "step": 5.0},
     "montecarlo": {"batch_size": 10, "max_seconds": 3.0, "confidence": 0.9, "interval": "wilson"},
     "curves": [{"name": "a", "source": {"type": "gaussian", "size": 32, "std": 2.0},
                 "stages": [{"type": "real_awgn"}, {"type": "quantizer", "num_bits": 4, "minval": -3.0, "maxval": 3.0}],
                 "metrics": [{"type": "mse", "sent": "latent", "received": "received"}]}]},
]
REQUIRED = [("name",), ("snr",), ("curves",), ("snr", "convention"), ("curves", 0, "name"), ("curves", 0, "source"),
            ("curves", 0, "stages"), ("curves", 0, "source", "type"), ("curves", 0, "stages", 0, "type")]
TAGS = ["!!python/object/apply:os.system ['echo owned']", "!!python/name:builtins.eval", "!!python/object/new:subprocess.Popen [['ls']]",
        "!!python/module:os", "!!python/tuple [1, 2]"]
WRONG_TYPES = [[1, 2], {"nested": 1}]
BAD_NUMBERS = [float("nan"), float("inf"), float("-inf"), -1e300, 1e30]


def _leaves(node, path=()):
    """Paths of scalar values (strings, numbers, booleans), excluding list-of-list matrices."""
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _leaves(value, path + (key,))
    elif isinstance(node, list):
        if node and isinstance(node[0], list):
            return
        for i, value in enumerate(node):
            yield from _leaves(value, path + (i,))
    else:
        yield path


def _mappings(node, path=()):
    if isinstance(node, dict):
        yield path
        for key, value in node.items():
            yield from _mappings(value, path + (key,))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from _mappings(value, path + (i,))


def _get(node, path):
    for key in path:
        node = node[key]
    return node


def _is_number_field(scenario, path):
    value = _get(scenario, path)
    return isinstance(value, (int, float)) and not isinstance(value, bool) and path[-1] not in ("transition",)


@st.composite
def mutated_scenarios(draw):
    """(YAML text, mutation label)."""
    scenario = copy.deepcopy(draw(st.sampled_from(VALID)))
    kind = draw(st.sampled_from(["unknown_key", "missing_key", "wrong_type", "bad_number", "huge_size", "broken_yaml", "tag", "top_level"]))
    if kind == "unknown_key":
        where = draw(st.sampled_from(list(_mappings(scenario))))
        _get(scenario, where)["zz_" + draw(st.text("abcxyz_", min_size=1, max_size=8))] = draw(st.sampled_from([1, "x", None, [1]]))
    elif kind == "missing_key":
        path = draw(st.sampled_from(REQUIRED))
        del _get(scenario, path[:-1])[path[-1]]
    elif kind == "wrong_type":
        path = draw(st.sampled_from(list(_leaves(scenario))))
        _get(scenario, path[:-1])[path[-1]] = draw(st.sampled_from(WRONG_TYPES))
    elif kind == "bad_number":
        numbers = [p for p in _leaves(scenario) if _is_number_field(scenario, p)]
        path = draw(st.sampled_from(numbers))
        _get(scenario, path[:-1])[path[-1]] = draw(st.sampled_from(BAD_NUMBERS))
    elif kind == "huge_size":
        size_keys = [p for p in _leaves(scenario) if p[-1] in ("num_bits", "num_labels", "size", "batch_size", "num_classes")]
        path = draw(st.sampled_from(size_keys))
        _get(scenario, path[:-1])[path[-1]] = draw(st.integers(min_value=2**40, max_value=2**70))
    text = yaml.safe_dump(scenario, sort_keys=False)
    lines = text.splitlines()
    if kind == "broken_yaml":
        at = draw(st.integers(min_value=0, max_value=len(lines)))
        lines.insert(at, draw(st.sampled_from(["  - [unclosed", "key: {open", "\t\ttabbed: 1", "x: 'unterminated", "]: ["])))
    elif kind == "tag":
        at = draw(st.integers(min_value=0, max_value=len(lines) - 1))
        key = lines[at].split(":")[0] if ":" in lines[at] else "zz"
        lines[at] = f"{key}: {draw(st.sampled_from(TAGS))}" if ":" in lines[at] else lines[at]
        if ":" not in lines[at]:
            lines.append(f"zz: {draw(st.sampled_from(TAGS))}")
    elif kind == "top_level":
        lines = [draw(st.sampled_from(["- a\n- b", "42", "'just text'", "null", "[]"]))]
    return "\n".join(lines) + "\n", kind


@settings(max_examples=250, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(case=mutated_scenarios())
def test_every_mutation_is_one_line_exit_2_and_writes_nothing(case, tmp_path_factory, capsys):
    text, kind = case
    directory = tmp_path_factory.mktemp("fuzz")
    path = directory / "scenario.yaml"
    path.write_text(text)
    out = directory / "out" / "results.h5"
    code = main(["run", str(path), "--out", str(out)])
    captured = capsys.readouterr()
    assert code == 2, (kind, text, captured.err)
    assert captured.err.startswith(f"linksim: error: {path}") and captured.err.count("\n") == 1, (kind, captured.err)
    assert "Traceback" not in captured.err and captured.out == ""
    assert os.listdir(directory) == ["scenario.yaml"]


SHIPPED = sorted((pathlib.Path(__file__).resolve().parents[1] / "scenarios").glob("*.yaml"))
MUTATIONS = ("delete", "replace", "add", "duplicate_line", "nest", "alias_bomb", "truncate", "bytes")


@st.composite
def shipped_mutants(draw):
    """(a shipped scenario's text with one arbitrary change, which may leave it valid; the kind of change)."""
    path = draw(st.sampled_from(SHIPPED))
    kind = draw(st.sampled_from(MUTATIONS))
    text = path.read_text()
    data = yaml.safe_load(text)
    if kind == "nest":  # a top-level key's value replaced by lists nested up to 3000 deep (written as YAML flow text)
        key = draw(st.sampled_from(sorted(data)))
        depth = draw(st.integers(1, 3000))
        del data[key]
        text = yaml.safe_dump(data, sort_keys=False) + f"{key}: " + "[" * depth + "1" + "]" * depth + "\n"
    elif kind in ("delete", "replace", "add"):
        where = draw(st.sampled_from(list(_leaves(data))))
        parent = _get(data, where[:-1])
        value = draw(st.one_of(st.integers(-2**70, 2**70), st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=30),
                               st.booleans(), st.none(), st.lists(st.integers(), max_size=5)))
        if kind == "delete":
            del parent[where[-1]]
        elif kind == "replace":
            parent[where[-1]] = value
        elif isinstance(parent, dict):
            parent[draw(st.text("abcdefghijklmnopqrstuvwxyz_", min_size=1, max_size=12))] = value
        text = yaml.safe_dump(data, sort_keys=False)
    elif kind == "duplicate_line":
        lines = text.splitlines()
        at = draw(st.integers(0, len(lines) - 1))
        text = "\n".join(lines[:at + 1] + lines[at:]) + "\n"
    elif kind == "alias_bomb":
        levels, width = draw(st.integers(2, 12)), draw(st.integers(2, 12))
        bomb = ["b0: &b0 [" + ", ".join(["x"] * width) + "]"]
        bomb += [f"b{i}: &b{i} [" + ", ".join([f"*b{i - 1}"] * width) + "]" for i in range(1, levels)]
        text = "\n".join(bomb) + f"\ndescription: *b{levels - 1}\n" + text.replace("description:", "zz_description:", 1)
    elif kind == "truncate":
        text = text[:draw(st.integers(0, len(text)))]
    else:
        raw = bytearray(text.encode())
        for _ in range(draw(st.integers(1, 8))):
            raw[draw(st.integers(0, len(raw) - 1))] = draw(st.integers(0, 255))
        text = raw.decode("utf-8", errors="replace")
    return text, kind


def validate_mutants(folder: str, examples: int) -> dict:
    """Validate ``examples`` mutants of the shipped scenarios in this process (run by the test below in a process of its
    own): each must end in exit 0 (one line on stdout) or exit 2 (one line on stderr) within 10 s. Returns the outcome
    counts per kind of mutation."""
    import contextlib
    import io
    import time

    counts = {}

    @settings(max_examples=examples, deadline=None, derandomize=True, database=None, suppress_health_check=list(HealthCheck))
    @given(mutant=shipped_mutants())
    def check(mutant):
        text, kind = mutant
        path = pathlib.Path(folder, "mutant.yaml")
        path.write_text(text)
        out, err = io.StringIO(), io.StringIO()
        began = time.perf_counter()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = main(["validate", str(path)])
        assert time.perf_counter() - began < 10, (kind, text[:2000])
        assert (code == 0 and err.getvalue() == "" and out.getvalue().count("\n") == 1) or (
            code == 2 and err.getvalue().count("\n") == 1 and out.getvalue() == ""), (kind, code, out.getvalue(), err.getvalue())
        counts.setdefault(kind, {}).setdefault(code, 0)
        counts[kind][code] += 1

    check()
    return counts


def test_mutants_of_every_shipped_scenario_validate_or_fail_in_one_line_quickly_without_tensorflow(tmp_path):
    """400 hypothesis mutants of the shipped scenarios, validated in a process of its own under a 3 GB address-space
    limit: every one ends in exit 0 or exit 2 with one line within 10 s, and TensorFlow is never imported."""
    import subprocess
    import sys

    code = ("import json, resource, sys\n"
            "resource.setrlimit(resource.RLIMIT_AS, (3 << 30, 3 << 30))\n"
            "from tests.test_fuzz_scenarios import validate_mutants\n"
            f"counts = validate_mutants({str(tmp_path)!r}, 400)\n"
            "print(json.dumps({'counts': counts, 'tensorflow': sorted(m for m in sys.modules if m.split('.')[0] in ('tensorflow', 'keras'))}))\n")
    root = pathlib.Path(__file__).resolve().parents[1]
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=900, cwd=root)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    report = json.loads(result.stdout.splitlines()[-1])
    assert report["tensorflow"] == []
    assert set(report["counts"]) == set(MUTATIONS), report["counts"]
    print(report["counts"])
