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


@pytest.mark.parametrize("name, curve_name, point_index", [
    ("quickstart", "learned-16qam", 5),
    ("ofdm_tdl_learned", "learned-tdlc-ls", 4),  # trained through OFDM + TDL-C + LS, evaluated over it: the fading chain reproduces too
])
def test_the_shipped_codecs_reproduce_the_committed_results(name, curve_name, point_index, tmp_path):
    scenario = load_scenario(ROOT / "scenarios" / f"{name}.yaml")
    curve_index = next(i for i, c in enumerate(scenario.curves) if c.name == curve_name)
    assert shipped_path(scenario, scenario.curves[curve_index]) is not None
    runner = ChunkRunner(scenario, CurveWeights(scenario, str(tmp_path / "no-checkpoints")))
    snr_db = float(scenario.snr.points()[point_index])
    totals = {}
    for chunk in range(2):  # the 386 test patches, as the committed run measured them
        stats, _ = runner.run(curve_index, point_index, chunk, snr_db)
        for metric, values in stats.items():
            for stat, value in values.items():
                totals.setdefault(metric, {}).setdefault(stat, 0)
                totals[metric][stat] += value
    with open(ROOT / "results" / f"{name}.csv") as f:
        rows = {(r["curve"], float(r["snr_db"]), r["metric"]): r for r in csv.DictReader(f)}
    for metric in ("psnr", "ssim", "tx_power") + (("latent_mse",) if name == "quickstart" else ()):
        committed = float(rows[(curve_name, snr_db, metric)]["value"])
        assert totals[metric]["sum"] / totals[metric]["count"] == pytest.approx(committed, rel=2e-6)
    ber = rows[(curve_name, snr_db, "ber")]
    assert totals["ber"]["errors"] / totals["ber"]["trials"] == pytest.approx(float(ber["value"]), rel=2e-6)


def test_a_curve_starting_from_a_shipped_one_reads_its_weights(tmp_path):
    """init_from a curve whose weights ship: its checkpoint root need not hold them."""
    from linksim.run.training import learned_layers, train_curves

    scenario = load_scenario(ROOT / "scenarios" / "ofdm_tdl_learned.yaml")
    index = next(i for i, c in enumerate(scenario.curves) if c.name == "learned-awgn-tdlc-ls")
    train_curves(scenario, [index], str(tmp_path))
    runner = ChunkRunner(scenario, CurveWeights(scenario, str(tmp_path)))
    shipped = learned_layers(runner.curve(0).link)  # learned-awgn: from linksim/weights
    copied = learned_layers(runner.curve(index).link)
    for tap in ("latent", "reconstruction"):
        for a, b in zip(shipped[tap].get_weights(), copied[tap].get_weights()):
            assert (a == b).all()


def test_without_shipped_weights_an_untrained_curve_is_an_error(tmp_path):
    scenario = load_scenario(ROOT / "scenarios" / "quickstart.yaml")
    runner = ChunkRunner(scenario, CurveWeights(scenario, str(tmp_path / "no-checkpoints"), shipped=False))
    with pytest.raises(InputError, match="no finished training checkpoint"):
        runner.curve(0)
