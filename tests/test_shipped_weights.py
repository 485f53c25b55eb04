"""The trained weights shipped with linksim: found by scenario, curve and configuration hash, loaded
in Keras's weights-only format, and they reproduce the committed results of their scenario."""
import csv
import pathlib

import pytest

from linksim.engine.errors import InputError
from linksim.run.checkpoints import shipped_path
from linksim.run.montecarlo import ChunkRunner
from linksim.run.training import CurveWeights
from linksim.scenario import load_scenario

ROOT = pathlib.Path(__file__).resolve().parents[1]


def test_the_shipped_quickstart_codec_reproduces_the_committed_results(tmp_path):
    scenario = load_scenario(ROOT / "scenarios" / "quickstart.yaml")
    assert shipped_path(scenario, scenario.curves[0]) is not None
    runner = ChunkRunner(scenario, CurveWeights(scenario, str(tmp_path / "no-checkpoints")))
    point_index = 5
    snr_db = float(scenario.snr.points()[point_index])
    totals = {}
    for chunk in range(2):  # the 386 test patches, as the committed run measured them
        stats, _ = runner.run(0, point_index, chunk, snr_db)
        for metric, values in stats.items():
            for stat, value in values.items():
                totals.setdefault(metric, {}).setdefault(stat, 0)
                totals[metric][stat] += value
    with open(ROOT / "results" / "quickstart.csv") as f:
        rows = {(r["curve"], float(r["snr_db"]), r["metric"]): r for r in csv.DictReader(f)}
    for metric in ("psnr", "ssim", "latent_mse", "tx_power"):
        committed = float(rows[("learned-16qam", snr_db, metric)]["value"])
        assert totals[metric]["sum"] / totals[metric]["count"] == pytest.approx(committed, rel=2e-6)
    ber = rows[("learned-16qam", snr_db, "ber")]
    assert totals["ber"]["errors"] / totals["ber"]["trials"] == pytest.approx(float(ber["value"]), rel=2e-6)


def test_without_shipped_weights_an_untrained_curve_is_an_error(tmp_path):
    scenario = load_scenario(ROOT / "scenarios" / "quickstart.yaml")
    runner = ChunkRunner(scenario, CurveWeights(scenario, str(tmp_path / "no-checkpoints"), shipped=False))
    with pytest.raises(InputError, match="no finished training checkpoint"):
        runner.curve(0)
