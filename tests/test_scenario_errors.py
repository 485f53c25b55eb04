"""Every class of bad scenario: one line on stderr naming file and key, exit 2, nothing written."""
import copy
import os
import subprocess
import sys

import pytest
import yaml

from linksim.cli import main
from tests.conftest import tiny_scenario


def _run_cli(capsys, argv):
    code = main(argv)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def _mutated(path_keys, value):
    s = tiny_scenario()
    target = s
    for key in path_keys[:-1]:
        target = target[key]
    if value is KeyError:
        del target[path_keys[-1]]
    else:
        target[path_keys[-1]] = value
    return s


CASES = [
    ("unknown top-level key", _mutated(["colour"], "blue"), "colour: unknown key"),
    ("unknown nested key", _mutated(["montecarlo", "batchsize"], 10), "montecarlo.batchsize: unknown key"),
    ("unknown stage key", _mutated(["curves", 0, "stages", 1, "sigma"], 1.0), "curves[0].stages[1].sigma: unknown key"),
    ("wrong type", _mutated(["montecarlo", "batch_size"], "many"), "montecarlo.batch_size: input should be a valid integer"),
    ("float for int", _mutated(["seed"], 1.5), "seed: input should be a valid integer"),
    ("impossible value", _mutated(["montecarlo", "batch_size"], -5), "montecarlo.batch_size: input should be greater than 0"),
    ("bad confidence", _mutated(["montecarlo", "confidence"], 1.5), "montecarlo.confidence"),
    ("missing key", _mutated(["snr", "convention"], KeyError), "snr.convention: missing required key"),
    ("unknown stage type", _mutated(["curves", 0, "stages", 1, "type"], "awgnn"), "curves[0].stages[1]: type 'awgnn' does not match"),
    ("unknown modulation", _mutated(["curves", 0, "stages", 0, "modulation"], "qam32"), "curves[0].stages[0].modulation"),
    ("missing tap", _mutated(["curves", 0, "metrics"], [{"type": "ber", "received": "llr"}]), "reads tap 'llr'"),
    ("ebno without mapper", _mutated(["curves", 0, "stages"], [{"type": "bsc", "error_probability": 0.1}]), "needs a mapper stage"),
    ("reversed range", _mutated(["snr", "stop"], -4.0), "'stop' must not be below 'start'"),
    ("too many points", _mutated(["snr", "step"], 1e-6), "more than 10000 SNR points"),
    ("nan", _mutated(["snr", "start"], float("nan")), "snr.start"),
    ("inf", _mutated(["montecarlo", "max_seconds"], float("inf")), "montecarlo.max_seconds"),
    ("duplicate curves", _mutated(["curves"], tiny_scenario()["curves"] * 2), "curve names must be unique"),
    ("bsc needs p or modulation", _mutated(["curves", 0, "stages", 1], {"type": "bsc"}), "give 'error_probability' or 'modulation'"),
]


@pytest.mark.parametrize("label,scenario,expected", CASES, ids=[c[0] for c in CASES])
def test_bad_scenarios_give_one_line_and_exit_2(label, scenario, expected, write_scenario, capsys, tmp_path):
    path = write_scenario(copy.deepcopy(scenario))
    out_file = tmp_path / "results.h5"
    for argv in (["validate", path], ["run", path, "--out", str(out_file)]):
        code, out, err = _run_cli(capsys, argv)
        assert code == 2, err
        assert err.count("\n") == 1 and err.startswith(f"linksim: error: {path}: "), err
        assert expected in err, err
        assert "Traceback" not in err and out == ""
    assert not out_file.exists() and os.listdir(tmp_path) == ["scenario.yaml"]


@pytest.mark.parametrize("text,expected", [
    ("name: x\nsnr: [1, 2\n", ":3:1: invalid YAML"),
    ("name: x\n  bad: indent\n", "invalid YAML"),
    ("!!python/object/apply:os.system ['echo hacked']\n", "unsupported YAML tag 'tag:yaml.org,2002:python/object/apply:os.system'"),
    ("name: !!python/name:os.system\n", "unsupported YAML tag"),
    ("- just\n- a list\n", "expected a mapping of keys at the top level, got list"),
    ("", "expected a mapping of keys at the top level, got NoneType"),
])
def test_broken_yaml_and_tags(text, expected, write_scenario, capsys):
    path = write_scenario(text)
    code, out, err = _run_cli(capsys, ["validate", path])
    assert code == 2 and expected in err and err.count("\n") == 1, err


def test_missing_and_unreadable_files(capsys, tmp_path):
    code, _, err = _run_cli(capsys, ["validate", str(tmp_path / "nope.yaml")])
    assert code == 2 and "nope.yaml: no such scenario file" in err
    code, _, err = _run_cli(capsys, ["validate", str(tmp_path)])
    assert code == 2 and "not a regular file" in err
    binary = tmp_path / "b.yaml"
    binary.write_bytes(b"\xff\xfe\x00")
    code, _, err = _run_cli(capsys, ["validate", str(binary)])
    assert code == 2 and "not UTF-8" in err


def test_unwritable_output_is_refused_before_anything_runs(write_scenario, capsys, tmp_path):
    path = write_scenario(tiny_scenario())
    code, _, err = _run_cli(capsys, ["run", path, "--out", str(tmp_path)])
    assert code == 2 and "is a directory" in err


def test_real_process_exit_code_and_no_tensorflow_noise(write_scenario):
    """The installed entry point: exit 2, a single stderr line, and fast (TensorFlow never imported)."""
    path = write_scenario(_mutated(["montecarlo", "batch_size"], 0))
    proc = subprocess.run([sys.executable, "-m", "linksim.cli", "run", path], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2
    assert proc.stderr.strip().count("\n") == 0 and "montecarlo.batch_size" in proc.stderr
    check = subprocess.run([sys.executable, "-c", "import sys, linksim.scenario as s; s.load_scenario(sys.argv[1]); print('tensorflow' in sys.modules)", write_scenario(tiny_scenario(), "ok.yaml")],
                           capture_output=True, text=True, timeout=60)
    assert check.stdout.strip() == "False"


def test_valid_scenario_and_defaults_round_trip(write_scenario, capsys):
    from linksim.scenario import load_scenario, parse_scenario, resolved_yaml

    path = write_scenario(tiny_scenario())
    code, out, _ = _run_cli(capsys, ["validate", path])
    assert code == 0 and "ok" in out
    scenario = load_scenario(path)
    assert scenario.montecarlo.confidence == 0.95 and list(scenario.snr.points()) == [0.0, 2.0, 4.0]
    assert parse_scenario(yaml.safe_load(resolved_yaml(scenario))) == scenario


def _alias_bomb(levels=9, width=9):
    """``levels`` anchors, each a list of ``width`` aliases of the previous: width**levels values expanded."""
    lines = ["a0: &a0 [" + ", ".join(["x"] * width) + "]"]
    lines += [f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * width) + "]" for i in range(1, levels)]
    return "\n".join(lines + [f"name: *a{levels - 1}"]) + "\n"


@pytest.mark.parametrize("label, text, expected", [
    ("nested 1000 deep", "name: x\nsnr: " + "[" * 1000 + "]" * 1000 + "\n", "nested deeper than 64 levels"),
    ("nested mappings", "name: x\nsnr: " + "{a: " * 200 + "1" + "}" * 200 + "\n", "nested deeper than 64 levels"),
    ("alias bomb", _alias_bomb(), "more than 200000 values once its aliases are expanded"),
    ("duplicate key", yaml.safe_dump(tiny_scenario(), sort_keys=False).replace("seed: 7\n", "seed: 7\nseed: 8\n"),
     ":3:1: duplicate key 'seed'; each key may appear once"),
])
def test_hostile_yaml_is_refused_in_seconds_and_bounded_memory(label, text, expected, tmp_path):
    """In a process of its own under a 1 GB address-space limit: exit 2 with one line, within 30 s, no TensorFlow."""
    path = tmp_path / "hostile.yaml"
    path.write_text(text)
    code = ("import resource, sys\n"
            "resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30))\n"
            "from linksim.cli import main\n"
            f"code = main(['validate', {str(path)!r}])\n"
            "assert 'tensorflow' not in sys.modules\n"
            "sys.exit(code)\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=30)
    assert result.returncode == 2, result.stderr[-2000:]
    assert result.stderr.count("\n") == 1 and expected in result.stderr, result.stderr


def test_yaml_merge_keys_and_anchors_within_bounds_still_load(write_scenario, capsys):
    text = yaml.safe_dump(tiny_scenario(), sort_keys=False).replace("montecarlo:\n", "defaults: &mc\n  batch_size: 200\nmontecarlo:\n  <<: *mc\n", 1)
    text = text.replace("  batch_size: 200\n  target_errors", "  target_errors", 1)
    code, out, err = _run_cli(capsys, ["validate", write_scenario(text)])
    assert code == 2 and "defaults: unknown key" in err  # the anchor's own key is not a scenario key; the merge itself parsed


def _coded(demapper):
    spec = tiny_scenario()
    spec["curves"][0].update(source={"type": "bits", "num_bits": 512}, metrics=[{"type": "ber"}], stages=[
        {"type": "ldpc_encoder", "k": 512, "n": 1024}, {"type": "mapper", "modulation": "qam16"}, {"type": "awgn"}, demapper,
        {"type": "ldpc_decoder", "k": 512, "n": 1024}])
    del spec["curves"][0]["theory"]
    return spec


@pytest.mark.parametrize("label, scenario, expected", [
    ("hard bits into a decoder", _coded({"type": "demapper", "modulation": "qam16", "hard": True}),
     "ldpc_decoder 'decoded_bits' takes LLRs, but receives hard bits"),
    ("a slicer into a decoder", _coded({"type": "slicer", "modulation": "qam16"}), "takes LLRs, but receives hard bits"),
    ("theory of another modulation", _mutated(["curves", 0, "theory", "modulation"], "qam64"),
     "theory: the closed form of qam64 on a curve that sends qam16 symbols; write 'modulation: qam16'"),
    ("random weights without a learned stage", _mutated(["curves", 0, "weights"], "random"),
     "'weights: random' runs learned stages untrained, but this curve has none"),
    ("a metric name that is a path", _mutated(["curves", 0, "metrics", 0, "name"], "/abs"), "metrics[0].name: string should match pattern"),
    ("a metric name '.'", _mutated(["curves", 0, "metrics", 0, "name"], "."), "metrics[0].name: string should match pattern"),
    ("a tap with a slash", _mutated(["curves", 0, "stages", 1, "tap"], "a/b"), "stages[1].tap: string should match pattern"),
])
def test_chains_that_would_mislead_are_refused(label, scenario, expected, write_scenario, capsys):
    code, out, err = _run_cli(capsys, ["validate", write_scenario(scenario)])
    assert code == 2 and err.count("\n") == 1 and expected in err, (label, err)


def test_the_decoder_chain_with_llrs_still_validates(write_scenario, capsys):
    code, out, err = _run_cli(capsys, ["validate", write_scenario(_coded({"type": "demapper", "modulation": "qam16", "method": "app"}))])
    assert code == 0, err
