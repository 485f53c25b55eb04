"""The Python API: a scenario run from Python equals the command line's, a curve as a Sionna Block under
``sim_ber``, export to a ``.keras`` archive, weights found by configuration, plugins."""
import json
import os
import pathlib
import shutil
import subprocess
import sys

import numpy as np
import pytest
import yaml
from conftest import tiny_scenario

import linksim
from linksim.cli import main

ROOT = pathlib.Path(__file__).resolve().parents[1]
QUICKSTART = ROOT / "scenarios" / "quickstart.yaml"


def _two_proportion_z(errors_a, trials_a, errors_b, trials_b) -> float:
    pooled = (errors_a + errors_b) / (trials_a + trials_b)
    return (errors_a / trials_a - errors_b / trials_b) / np.sqrt(pooled * (1 - pooled) * (1 / trials_a + 1 / trials_b))


def _quickstart_learned(snr_values):
    """The quickstart's learned curve alone at these SNRs over the 386 test patches."""
    spec = yaml.safe_load(QUICKSTART.read_text())
    spec["curves"] = spec["curves"][:1]
    spec["snr"] = {"convention": "esno", "values": snr_values}
    del spec["figures"]
    return spec


def test_the_api_names_are_explicit():
    assert set(linksim.__all__) >= {"load_scenario", "Scenario", "Results", "load_plugins", "load_model", "InputError"}
    for name in linksim.__all__:
        assert getattr(linksim, name) is not None


def test_import_linksim_and_validation_import_no_tensorflow():
    code = ("import sys, linksim\n"
            "s = linksim.load_scenario('quickstart')\n"
            "print(s.summary())\n"
            "assert 'tensorflow' not in sys.modules and 'keras' not in sys.modules, 'TensorFlow imported'\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "3 curve(s), 11 SNR point(s)" in result.stdout


def test_scenario_run_from_python_equals_the_command_line(tmp_path):
    spec = tiny_scenario()
    results = linksim.load_scenario(spec).run(out=tmp_path / "api.h5", quiet=True, figures=False)
    path = tmp_path / "tiny.yaml"
    path.write_text(yaml.safe_dump(spec))
    assert main(["run", str(path), "--out", str(tmp_path / "cli.h5"), "--quiet"]) == 0
    cli = linksim.Results.load(tmp_path / "cli.h5")
    def comparable(rows):  # NaN (no interval) compares unequal to itself
        return [{k: None if isinstance(v, float) and np.isnan(v) else v for k, v in r.items()} for r in rows]

    assert comparable(results.to_rows()) == comparable(cli.to_rows())
    assert [[(p.samples, p.stats) for p in c.points] for c in results.curves] == [[(p.samples, p.stats) for p in c.points] for c in cli.curves]
    assert results.csv_path == str(tmp_path / "api.csv") and os.path.isfile(results.csv_path)
    rows = [r for r in results.to_rows() if r["metric"] == "ber"]
    assert {r["snr_db"] for r in rows} == {0.0, 2.0, 4.0} and all(0 < r["value"] < 0.2 for r in rows)


@pytest.mark.parametrize("mode", ["eager", "graph", "xla"])
def test_sim_ber_over_a_phy_curve_gives_the_ber_of_linksim_run(mode, tmp_path):
    """Sionna's own sim_ber over ``scenario.link(...)``: the BER of the same chain that ``linksim run`` measured,
    within the two-proportion test (the draws differ), and the exact closed form within its interval."""
    from sionna.phy.utils import sim_ber

    from linksim.phy import ber_awgn

    spec = tiny_scenario(snr={"convention": "ebno", "values": [2.0]})
    spec["montecarlo"].update(target_errors=None, max_samples=4000)
    scenario = linksim.load_scenario(spec)
    point = scenario.run(out=tmp_path / "r.h5", quiet=True, figures=False).curve("qam16").points[0]
    errors, trials = point.stats["ber"]["errors"], point.stats["ber"]["trials"]
    link = scenario.link("qam16", batch_size=200, seed=5)
    ber, _ = sim_ber(link, np.array([2.0]), batch_size=200, max_mc_iter=20, num_target_bit_errors=None,
                     graph_mode=None if mode == "eager" else mode, verbose=False)
    bits = 20 * 200 * 256
    assert abs(_two_proportion_z(errors, trials, round(float(ber[0]) * bits), bits)) < 3.29
    exact = float(ber_awgn("qam16", 2.0, "ebno"))
    assert abs(float(ber[0]) - exact) < 3.29 * np.sqrt(exact * (1 - exact) / bits)


def test_sim_ber_over_the_quickstart_codec_gives_the_ber_of_linksim_run(tmp_path):
    """The learned link with its shipped weights: its bits (AD → 16-QAM → AWGN → slicer) under sim_ber (XLA)
    against ``linksim run`` at Es/N0 10 dB, both over the 386 test patches."""
    from sionna.phy.utils import sim_ber

    scenario = linksim.load_scenario(_quickstart_learned([10.0]))
    point = scenario.run(out=tmp_path / "q.h5", checkpoints=str(tmp_path / "none"), quiet=True, figures=False).curve(
        "learned-16qam").points[0]
    errors, trials = point.stats["ber"]["errors"], point.stats["ber"]["trials"]
    link = scenario.link("learned-16qam", checkpoints=str(tmp_path / "none"), seed=9)
    sent, received = link(193, 10.0)
    assert sent.shape == received.shape == (193, 2048)
    ber, _ = sim_ber(link, np.array([10.0]), batch_size=193, max_mc_iter=2, num_target_bit_errors=None, graph_mode="xla", verbose=False)
    bits = 2 * 193 * 2048
    assert trials == bits
    assert abs(_two_proportion_z(errors, trials, round(float(ber[0]) * bits), bits)) < 3.29, (errors / trials, float(ber[0]))


def test_export_round_trip_in_a_fresh_process_reproduces_the_curve_bit_for_bit(tmp_path):
    out = tmp_path / "codec.keras"
    assert main(["export", str(QUICKSTART), "--curve", "learned-16qam", "--out", str(out), "--checkpoints", str(tmp_path / "none")]) == 0
    scenario = linksim.load_scenario(QUICKSTART)
    link = scenario.link("learned-16qam", checkpoints=str(tmp_path / "none"))
    import tensorflow as tf

    taps = link.link(8, tf.constant(0.05), tf.constant(13.0), tf.constant([4, 2]), tf.zeros([9]))
    np.save(tmp_path / "images.npy", taps["images"].numpy())
    np.save(tmp_path / "dequantized.npy", taps["dequantized"].numpy())
    code = ("import numpy as np, linksim, keras\n"
            f"m = linksim.load_model({str(out)!r})\n"
            f"safe = keras.models.load_model({str(out)!r}, safe_mode=True)\n"
            f"images, latent = np.load({str(tmp_path / 'images.npy')!r}), np.load({str(tmp_path / 'dequantized.npy')!r})\n"
            "outputs = m({'latent': images, 'reconstruction': latent})\n"
            "assert np.array_equal(safe.parts['latent'](images), outputs['latent'])\n"
            f"np.save({str(tmp_path / 'latent.npy')!r}, outputs['latent'].numpy())\n"
            f"np.save({str(tmp_path / 'reconstruction.npy')!r}, outputs['reconstruction'].numpy())\n"
            "print(sorted(m.parts), m.description)\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300, cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "['latent', 'reconstruction'] quickstart/learned-16qam" in result.stdout
    np.testing.assert_array_equal(np.load(tmp_path / "latent.npy"), taps["latent"].numpy())
    np.testing.assert_array_equal(np.load(tmp_path / "reconstruction.npy"), taps["reconstruction"].numpy())


def test_renamed_scenario_and_curve_with_a_new_metric_reuse_the_shipped_weights(tmp_path, capsys):
    """Weights are found by configuration: another scenario name, another curve name and an added metric
    train nothing; a changed training setting does train (its hash differs)."""
    from linksim.run.checkpoints import config_hash, shipped_path

    spec = _quickstart_learned([20.0])
    spec["name"] = "my_copy"
    spec["curves"][0]["name"] = "renamed"
    spec["curves"][0]["metrics"].append({"type": "mse", "name": "image_mse", "sent": "images", "received": "reconstruction"})
    spec["curves"][0]["theory"] = {"type": "awgn_ber", "modulation": "qam16"}
    scenario = linksim.load_scenario(spec)
    original = linksim.load_scenario(QUICKSTART)
    assert config_hash(scenario.spec, scenario.spec.curves[0]) == config_hash(original.spec, original.spec.curves[0])
    assert shipped_path(scenario.spec, scenario.spec.curves[0]) is not None
    scenario.train(checkpoints=str(tmp_path / "ck"))
    printed = capsys.readouterr().out
    assert "trained weights shipped with linksim" in printed and "# training" not in printed
    assert not (tmp_path / "ck").exists()
    histories = scenario.losses(checkpoints=str(tmp_path / "ck"))  # read from the shipped checkpoint
    assert [r["epoch"] for r in histories["renamed"]] == list(range(1, 21))
    spec["curves"][0]["training"]["stages"][0]["epochs"] = 1
    changed = linksim.load_scenario(spec)
    assert shipped_path(changed.spec, changed.spec.curves[0]) is None


def test_a_checkpoint_of_the_earlier_layout_is_moved_into_place_not_retrained(tmp_path, capsys):
    from linksim.run.checkpoint_migration import legacy_folder
    from linksim.run.checkpoints import SHIPPED_ROOT, checkpoint_path, config_hash

    scenario = linksim.load_scenario(_quickstart_learned([20.0]))
    curve = scenario.spec.curves[0]
    old = legacy_folder(scenario.spec, curve, str(tmp_path))
    assert old.endswith(os.path.join("quickstart", "learned-16qam-10cd7e49066b"))  # the hash format 1 gave this curve
    shutil.copytree(os.path.join(SHIPPED_ROOT, config_hash(scenario.spec, curve)), old)
    scenario.train(checkpoints=str(tmp_path), retrain=True)  # retrain: shipped weights do not count, the moved checkpoint does
    assert "trained weights reused from" in capsys.readouterr().out
    assert not os.path.exists(old) and not os.path.exists(os.path.dirname(old))
    state = json.loads(pathlib.Path(checkpoint_path(scenario.spec, curve, str(tmp_path)), "current", "state.json").read_text())
    assert state["complete"] and len(state["losses"]) == 20


def test_training_says_what_it_will_train_before_it_starts(tmp_path, capsys, eager):
    spec = _quickstart_learned([20.0])
    spec["data"]["patch_size"] = 16
    spec["curves"][0]["training"]["stages"][0].update(epochs=1, batch_size=256)
    spec["curves"][0]["stages"][0]["filters"] = spec["curves"][0]["stages"][-1]["filters"] = 4
    scenario = linksim.load_scenario(spec)
    scenario.train(checkpoints=str(tmp_path))
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("# training 1 job(s) (where no epoch was measured yet, each epoch's line estimates the time left)")
    assert lines[1].startswith("#   learned-16qam: joint 1 epochs → " + str(tmp_path))
    assert any(line.startswith("# train learned-16qam: joint epoch 1/1") for line in lines[2:])
    spec["curves"][0]["training"]["replicates"] = 2  # replicate 0 is the checkpoint just trained; replicate 1 is timed by it
    spec["curves"][0]["training"]["stages"][0]["epochs"] = 1
    linksim.load_scenario(spec).train(checkpoints=str(tmp_path))
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("# training 1 job(s)")
    assert lines[1].startswith("#   learned-16qam#r1: joint 1 epochs, about ") and "min (its replicates' or its own measured epochs)" in lines[1]


PLUGIN = (ROOT / "examples" / "my_stages.py").read_text()


def _plugin_package(tmp_path, registered_name="sionna_scrambler", entry_point=False):
    package = tmp_path / "site" / "mypkg"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "stages.py").write_text(PLUGIN.replace("sionna_scrambler", registered_name))
    if entry_point:
        info = tmp_path / "site" / "mypkg-0.1.dist-info"
        info.mkdir()
        (info / "METADATA").write_text("Metadata-Version: 2.1\nName: mypkg\nVersion: 0.1\n")
        (info / "entry_points.txt").write_text("[linksim.components]\nscrambler = mypkg.stages\n")
    return tmp_path / "site"


def _linksim(args, site, cwd):
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(site), str(ROOT)])}
    return subprocess.run([sys.executable, "-m", "linksim", *args], capture_output=True, text=True, timeout=300, cwd=cwd, env=env)


def _write_scrambled(tmp_path, declared=True):
    sys.path.insert(0, str(ROOT / "examples"))
    try:
        from own_block_as_stage import SCENARIO
    finally:
        sys.path.remove(str(ROOT / "examples"))
    spec = json.loads(json.dumps(SCENARIO))
    spec["plugins"] = ["mypkg.stages"] if declared else []
    spec["montecarlo"]["max_samples"] = 4000
    path = tmp_path / "scrambled.yaml"
    path.write_text(yaml.safe_dump(spec))
    return path


def test_your_sionna_block_runs_as_a_stage_loaded_by_plugin_or_entry_point(tmp_path):
    from linksim.phy import ber_awgn

    site = _plugin_package(tmp_path, entry_point=False)
    scenario = _write_scrambled(tmp_path)
    result = _linksim(["run", str(scenario), "--plugin", "mypkg.stages", "--out", "p.h5", "--quiet"], site, tmp_path)
    assert result.returncode == 0, result.stderr[-2000:]
    for point in linksim.Results.load(tmp_path / "p.h5").curve("scrambled").points:
        stats = point.stats["ber"]
        assert abs(stats["errors"] / stats["trials"] - ber_awgn("qam16", point.snr_db, "ebno")) < 4 * np.sqrt(
            ber_awgn("qam16", point.snr_db, "ebno") / stats["trials"])
    entry = tmp_path / "entry"
    entry.mkdir()
    site = _plugin_package(entry, entry_point=True)
    result = _linksim(["run", str(scenario), "--out", "e.h5", "--quiet"], site, tmp_path)  # no --plugin: the entry point loads it
    assert result.returncode == 0, result.stderr[-2000:]
    values = [[r["value"] for r in linksim.Results.load(tmp_path / name).to_rows()] for name in ("e.h5", "p.h5")]
    assert values[0] == values[1]  # the same seed, the same numbers


@pytest.mark.parametrize("case, expected", [
    ("not loaded", "the scenario needs plugin 'mypkg.stages', which is not loaded: pass `--plugin mypkg.stages`"),
    ("missing module", "plugin 'mypkg.nothing' (--plugin): cannot import it: no module named 'mypkg.nothing'"),
    ("clash", "plugin 'mypkg.stages' (--plugin): stage 'awgn' is registered twice"),
])
def test_plugin_problems_are_one_line_errors_and_write_nothing(case, expected, tmp_path):
    site = _plugin_package(tmp_path, registered_name="awgn" if case == "clash" else "sionna_scrambler")
    scenario = _write_scrambled(tmp_path)
    plugin = {"not loaded": [], "missing module": ["--plugin", "mypkg.nothing"], "clash": ["--plugin", "mypkg.stages"]}[case]
    result = _linksim(["run", str(scenario), *plugin, "--out", "x.h5"], site, tmp_path)
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and expected in result.stderr, result.stderr
    assert not (tmp_path / "x.h5").exists()


EXAMPLE_CHECKS = {
    # example: (call of its main, what the test asserts on the returned value)
    "sim_ber_with_5g_ldpc": "ebno, uncoded, exact, coded = module.main(batch_size=100, max_mc_iter=10)\n"
                            "assert np.all(np.abs(uncoded - exact) < 4 * np.sqrt(exact / (100 * 10 * 1024)))\n"
                            "assert coded[-1] < uncoded[-1] / 10  # the code gains",
    "learned_link_over_your_channel": "psnr = module.main(esno_dbs=(0.0, 30.0))\nassert psnr[30.0] > psnr[0.0] + 3",
    "own_block_as_stage": "from linksim.phy import ber_awgn\n"
                          "results = module.main(out='s.h5')\n"
                          "for point in results.curve('scrambled').points:\n"
                          "    s, exact = point.stats['ber'], float(ber_awgn('qam16', point.snr_db, 'ebno'))\n"
                          "    assert abs(s['errors'] / s['trials'] - exact) < 4 * np.sqrt(exact / s['trials'])",
}


@pytest.mark.parametrize("example", sorted(EXAMPLE_CHECKS))
def test_the_examples_run_and_agree_with_theory(example, tmp_path):
    """Each example in a process of its own (as a user runs it), its numbers checked against the exact BER."""
    code = (f"import sys, importlib\nimport numpy as np\nsys.path.insert(0, {str(ROOT / 'examples')!r})\n"
            f"module = importlib.import_module({example!r})\n{EXAMPLE_CHECKS[example]}\nprint('checked')\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=600, cwd=tmp_path)
    assert result.returncode == 0 and "checked" in result.stdout, result.stdout[-2000:] + result.stderr[-3000:]


def test_the_exported_codec_composes_into_a_functional_keras_model(tmp_path):
    """keras.Input → encoder → decoder from an exported archive: a functional model with static shapes whose
    output equals the two layers applied in turn."""
    import keras

    out = linksim.load_scenario("quickstart").export("learned-16qam", tmp_path / "c.keras", checkpoints=str(tmp_path / "none"))
    parts = linksim.load_model(out).parts
    images = keras.Input((32, 32, 3))
    latent = parts["latent"](images)
    assert tuple(latent.shape) == (None, 512)
    model = keras.Model(images, parts["reconstruction"](latent))
    batch = np.random.default_rng(1).uniform(size=(4, 32, 32, 3)).astype(np.float32)
    np.testing.assert_allclose(model(batch), parts["reconstruction"](parts["latent"](batch)), rtol=1e-6, atol=1e-6)
