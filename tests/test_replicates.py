"""Training replicates: independently seeded copies of a curve, swept on the same data; the results
keep each one, and tables, CSV and comparisons report their mean with the interval across them."""
import csv
import io

import numpy as np
import pytest
from scipy import stats

from linksim.cli import main
from linksim.output.results import Results
from linksim.run.checkpoints import checkpoint_path, config_hash
from linksim.run.training import Trainer
from linksim.scenario import build_curve, parse_scenario
from tests.test_training import tiny_learned


def _replicated(count, steps=4):
    spec = tiny_learned(steps=steps)
    spec["curves"][0]["signal_power"] = "nominal"
    spec["curves"][0]["training"]["replicates"] = count
    return spec


def _weights(link):
    return [w for s in link.stages if s.learned for w in s.block.get_weights()]


def test_replicate_zero_is_the_unreplicated_curve_and_the_others_are_seeded_apart():
    single, triple = parse_scenario(_replicated(1)), parse_scenario(_replicated(3))
    assert config_hash(triple, triple.curves[0], 0) == config_hash(single, single.curves[0])
    hashes = {config_hash(triple, triple.curves[0], r) for r in range(3)}
    assert len(hashes) == 3
    assert triple.curves[0].replicate_names() == ["codec#r0", "codec#r1", "codec#r2"]
    assert triple.result_names() == ["codec#r0", "codec#r1", "codec#r2"] and single.result_names() == ["codec"]


def test_two_replicates_train_differently_and_a_resumed_replicate_equals_an_uninterrupted_one(tmp_path):
    scenario = parse_scenario(_replicated(2))
    trained = []
    for replicate in (0, 1):
        link, _ = build_curve(scenario, scenario.curves[0])
        Trainer(scenario, 0, link, str(tmp_path / "a"), replicate=replicate).run()
        trained.append(_weights(link))
    assert any(not np.array_equal(a, b) for a, b in zip(*trained))
    interrupted, _ = build_curve(scenario, scenario.curves[0])
    Trainer(scenario, 0, interrupted, str(tmp_path / "b"), replicate=1).run(max_epochs=0)
    resumed, _ = build_curve(scenario, scenario.curves[0])
    state = Trainer(scenario, 0, resumed, str(tmp_path / "b"), replicate=1).run()
    assert state["complete"]
    for a, b in zip(trained[1], _weights(resumed)):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    assert checkpoint_path(scenario, scenario.curves[0], "x", replicate=1) != checkpoint_path(scenario, scenario.curves[0], "x")


def test_the_spread_across_replicates_is_the_t_interval_of_their_means(write_scenario, tmp_path, capsys):
    spec = _replicated(3)
    spec["curves"].append({**spec["curves"][0], "name": "single", "training": {**spec["curves"][0]["training"], "replicates": 1}})
    out = tmp_path / "r.h5"
    assert main(["run", write_scenario(spec), "--out", str(out), "--quiet", "--checkpoints", str(tmp_path / "ck")]) == 0
    results = Results.load(out)
    assert [c.name for c in results.curves] == ["codec#r0", "codec#r1", "codec#r2", "single"]
    rows = list(csv.DictReader(io.StringIO((tmp_path / "r.csv").read_text())))
    per_replicate = [float(r["value"]) for r in rows if r["curve"].startswith("codec#") and r["metric"] == "psnr"]
    group = next(r for r in rows if r["curve"] == "codec" and r["metric"] == "psnr")
    mean, sd = np.mean(per_replicate), np.std(per_replicate, ddof=1)
    half = stats.t.ppf(0.975, 2) * sd / np.sqrt(3)
    assert float(group["value"]) == pytest.approx(mean, rel=1e-6) and int(group["count"]) == 3
    assert float(group["ci_low"]) == pytest.approx(mean - half, rel=1e-5) and float(group["ci_high"]) == pytest.approx(mean + half, rel=1e-5)
    assert len(set(per_replicate)) == 3  # three trainings, three results on the same test data
    single = next(float(r["value"]) for r in rows if r["curve"] == "single" and r["metric"] == "psnr")
    assert main(["table", str(out)]) == 0
    assert "# curve codec: mean over 3 replicates" in capsys.readouterr().out
    assert main(["compare", str(out), "--baseline", "single", "--metric", "psnr"]) == 0
    lines = capsys.readouterr().out.splitlines()
    note = next(line for line in lines if line.startswith("# codec against single"))
    assert "(3 and 1 replicates" in note and ("within training spread" in note or "beyond training spread" in note)
    gaps = np.array(per_replicate) - single
    low, high = stats.t.interval(0.95, 2, loc=gaps.mean(), scale=gaps.std(ddof=1) / np.sqrt(3))
    assert ("within" in note) == (low <= 0 <= high)
    assert main(["losses", write_scenario(spec), "--checkpoints", str(tmp_path / "ck")]) == 0
    assert {line.split(",")[0] for line in capsys.readouterr().out.splitlines()[1:]} == {"codec#r0", "codec#r1", "codec#r2", "single"}
