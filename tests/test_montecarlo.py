"""The runner: reproducibility, execution modes, stopping rules, BER against theory."""
import numpy as np
import pytest

from linksim.run.montecarlo import run_scenario
from linksim.scenario import parse_scenario
from linksim.phy.ber_theory import ber_awgn
from tests.conftest import assert_in_binomial_interval, tiny_scenario


def _counts(results):
    return [(r.curve, r.snr_db, r.samples, {m: dict(s) for m, s in r.stats.items()}) for r in results]


def test_same_seed_same_numbers_other_seed_other_numbers():
    a = run_scenario(parse_scenario(tiny_scenario()))
    b = run_scenario(parse_scenario(tiny_scenario()))
    c = run_scenario(parse_scenario(tiny_scenario(seed=8)))
    assert _counts(a) == _counts(b)
    assert _counts(a) != _counts(c)


def test_eager_and_graph_agree_exactly_and_xla_statistically():
    """Eager and graph run the same kernels. XLA has its own Gaussian sampler, so its noise
    differs sample by sample; its counts must agree with the closed form instead."""
    mc = dict(tiny_scenario()["montecarlo"])
    runs = {}
    for mode in ("eager", "graph", "xla"):
        runs[mode] = run_scenario(parse_scenario(tiny_scenario(montecarlo={**mc, "execution": mode})))
    assert _counts(runs["eager"]) == _counts(runs["graph"])
    for r in runs["xla"]:
        assert_in_binomial_interval(r.stats["ber"]["errors"], r.stats["ber"]["trials"], float(ber_awgn("qam16", r.snr_db, "ebno")), 1 - 0.01 / 3)


def test_stopping_rules():
    mc = {"batch_size": 100, "target_errors": 3000, "max_samples": 10**6, "execution": "graph"}
    results = run_scenario(parse_scenario(tiny_scenario(montecarlo=mc)))
    for r in results:
        assert r.stop_reason == "target_errors" and r.stats["ber"]["errors"] >= 3000
        # it stopped at the first chunk that crossed the target: one chunk less was below it
        assert r.stats["ber"]["errors"] - 3000 < 100 * 256
    capped = run_scenario(parse_scenario(tiny_scenario(montecarlo={**mc, "target_errors": None, "max_samples": 250})))
    assert all(r.stop_reason == "max_samples" and r.samples == 300 for r in capped)  # overshoot < one batch
    blocks = run_scenario(parse_scenario(tiny_scenario(montecarlo={**mc, "target_errors": None, "target_block_errors": 150})))
    assert all(r.stop_reason == "target_block_errors" and r.stats["bler"]["errors"] >= 150 for r in blocks)


def test_error_free_point_ends_the_curve():
    s = tiny_scenario(snr={"convention": "ebno", "values": [2.0, 40.0, 41.0, 42.0]},
                      montecarlo={"batch_size": 100, "target_errors": 100, "max_samples": 300, "execution": "graph"})
    results = run_scenario(parse_scenario(s))
    assert [r.snr_db for r in results] == [2.0, 40.0]
    assert results[1].stats["ber"]["errors"] == 0


@pytest.mark.parametrize("modulation,demapper", [
    ("bpsk", {"type": "demapper", "method": "app"}),
    ("qpsk", {"type": "demapper", "method": "maxlog", "hard": True}),
    ("qam16", {"type": "slicer"}),
    ("qam64", {"type": "demapper", "method": "maxlog"}),
])
def test_link_ber_of_each_constellation_inside_interval_of_closed_form(modulation, demapper):
    s = tiny_scenario(
        snr={"convention": "ebno", "values": [1.0, 5.0]},
        montecarlo={"batch_size": 500, "target_errors": 3000, "max_samples": 10**5, "execution": "xla"},
        curves=[{
            "name": modulation, "source": {"type": "bits", "num_bits": 192},
            "stages": [{"type": "mapper", "modulation": modulation}, {"type": "awgn"}, {**demapper, "modulation": modulation}],
        }],
    )
    for r in run_scenario(parse_scenario(s)):
        assert_in_binomial_interval(r.stats["ber"]["errors"], r.stats["ber"]["trials"], float(ber_awgn(modulation, r.snr_db, "ebno")), 1 - 0.01 / 8)


def test_bsc_and_label_channel_and_rayleigh_links():
    s = {
        "name": "channels", "seed": 2, "snr": {"convention": "esno", "values": [6.0, 10.0]},
        "montecarlo": {"batch_size": 400, "target_errors": None, "max_samples": 4000, "execution": "graph"},
        "curves": [
            {"name": "bsc", "source": {"type": "bits", "num_bits": 256}, "stages": [{"type": "bsc", "modulation": "qam16"}]},
            {"name": "labels", "source": {"type": "labels", "num_labels": 256, "num_classes": 4},
             "stages": [{"type": "label_channel", "num_classes": 4, "error_probability": 0.2}], "metrics": [{"type": "ser"}]},
            {"name": "rayleigh", "source": {"type": "bits", "num_bits": 256},
             "stages": [{"type": "mapper", "modulation": "qpsk"}, {"type": "rayleigh", "block_length": 16},
                        {"type": "demapper", "modulation": "qpsk"}],
             "metrics": [{"type": "ber"}, {"type": "mse", "sent": "symbols", "received": "equalized"}]},
        ],
    }
    results = {(r.curve, r.snr_db): r for r in run_scenario(parse_scenario(s))}
    for snr in (6.0, 10.0):
        bsc = results[("bsc", snr)].stats["ber"]
        assert_in_binomial_interval(bsc["errors"], bsc["trials"], float(ber_awgn("qam16", snr, "esno")), 1 - 0.01 / 6)
        ser = results[("labels", snr)].stats["ser"]
        assert_in_binomial_interval(ser["errors"], ser["trials"], 0.2, 1 - 0.01 / 6)
        # QPSK over Rayleigh with perfect CSI: Pb = ½(1 − √(γb/(1+γb))), γb = Es/N0 / 2
        gb = 10 ** (snr / 10) / 2
        ray = results[("rayleigh", snr)].stats["ber"]
        # Bits of one coherence block share h, so a bit-level binomial interval is too narrow;
        # 32000 independent blocks put the relative standard error near 1 %: allow 5 %.
        p = 0.5 * (1 - np.sqrt(gb / (1 + gb)))
        assert abs(ray["errors"] / ray["trials"] - p) < 0.05 * p
        mse = results[("rayleigh", snr)].stats["mse"]
        assert mse["sum"] / mse["count"] > 10 ** (-snr / 10)  # equalised noise is worse than AWGN at the same Es/N0
