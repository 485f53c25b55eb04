"""Property: every mutated scenario ends in one line on stderr, exit 2, no traceback, no output.

Hypothesis applies one mutation that always makes a scenario invalid — unknown key, missing
required key, wrong type, NaN/inf, out-of-range or huge number, broken YAML, a Python YAML tag,
a wrong top-level type — to one of several valid scenarios, at a random place.
"""
import copy
import os

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
