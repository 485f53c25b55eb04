"""Every gap the README's results table quotes, recomputed from its committed CSV with
``Results.gaps`` (what ``linksim compare`` prints) and found in the README as printed there."""
import os

import pytest

from linksim.output.results import Results

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# (CSV, baseline, metric, SNR window, curve, with its interval): each one a gap the README states
CLAIMS = [
    ("amp_sc_headline", "softhe22", "psnr", None, "amp-sc", True),
    ("amp_sc_headline", "softq", "psnr", None, "amp-sc", True),
    ("amp_sc_headline", "softhe22", "psnr", (10, 18), "amp-sc", False),  # at error-free Eb/N0
    ("amp_sc_headline", "softhe22", "psnr", (0, 0), "amp-sc", False),
    ("scdm_headline", "jcm-18db", "psnr", (-18, -18), "scdm-joint", True),
    ("scdm_headline", "jcm-18db", "psnr", (-6, -6), "scdm-joint", True),
    ("scdm_headline", "jcm-18db", "psnr", (0, 0), "scdm-joint", True),
    ("scdm_headline", "jcm-18db", "psnr", (-18, -18), "scdm", False),
    ("scdm_headline", "jcm-18db", "psnr", (-6, -6), "scdm", False),
    ("vscc_headline", "vae-5dB", "psnr", None, "vscc-kb-5dB", True),
    ("vscc_headline", "vscc-kb-5dB", "psnr", None, "ae-5dB", False),
    ("disc_med_headline", "no-denoiser", "dice", (-5, -5), "disc-med", True),
    ("disc_med_headline", "no-denoiser", "dice", (0, 0), "disc-med", True),
    ("disc_med_headline", "no-denoiser", "dice", (5, 5), "disc-med", True),
    ("disc_med_headline", "dcae", "dice", (-5, -5), "disc-med", True),
    ("disc_med_headline", "dcae", "dice", (0, 0), "disc-med", True),
    ("disc_med_headline", "dcae", "dice", (5, 5), "disc-med", True),
]
# (benchmarks/clipped_psnr.py's CSV, baseline, curve, SNR, column): PSNR as scored and clipped, per replicate
CLIPPED = [(name, "jcm-18db", curve, snr, column) for name, curve in (("scdm_headline_clipped", "scdm-joint"),
                                                                       ("scdm_headline_clipped_scdm", "scdm"))
           for snr in (-18.0, -6.0) for column in ("psnr", "psnr_clipped")]
EQUAL_POWER = [("vscc_headline", "vae-5dB", "psnr", "vscc-kb-5dB", True), ("vscc_headline", "vscc-kb-5dB", "psnr", "ae-5dB", False)]


def _readme() -> str:
    with open(os.path.join(REPO, "README.md"), encoding="utf-8") as f:
        return f.read().replace("−", "-")


def _printed(gap, with_interval) -> str:
    return f"{gap.value:+.2f}" + (f" [{gap.low:+.2f}, {gap.high:+.2f}]" if with_interval else "")


@pytest.mark.parametrize("csv_name, baseline, metric, snr, curve, with_interval", CLAIMS)
def test_a_gap_in_the_readme_is_recomputed_from_its_csv(csv_name, baseline, metric, snr, curve, with_interval):
    results = Results.load(os.path.join(REPO, "results", f"{csv_name}.csv"))
    gap = results.gaps(baseline, metric, snr=snr, curves=curve)[curve]
    assert _printed(gap, with_interval) in _readme().replace(" dB [", " ["), (csv_name, baseline, curve, snr)


@pytest.mark.parametrize("csv_name, baseline, metric, curve, with_interval", EQUAL_POWER)
def test_an_equal_power_gap_in_the_readme_is_recomputed_from_its_csv(csv_name, baseline, metric, curve, with_interval):
    results = Results.load(os.path.join(REPO, "results", f"{csv_name}.csv"))
    gap = results.gaps(baseline, metric, curves=curve, axis="effective")[curve]
    assert _printed(gap, with_interval) in _readme().replace(" dB [", " ["), (csv_name, baseline, curve)


@pytest.mark.parametrize("csv_name, baseline, curve, snr, column", CLIPPED)
def test_a_clipped_psnr_gap_in_the_readme_is_recomputed_from_its_csv(csv_name, baseline, curve, snr, column):
    """Replicate k against replicate k, Student t interval across replicates (as the benchmark prints)."""
    import csv

    import numpy as np

    from linksim.phy.intervals import mean_interval

    with open(os.path.join(REPO, "results", f"{csv_name}.csv"), newline="") as f:
        value = {(r["curve"], int(r["replicate"]), float(r["snr_db"])): float(r[column]) for r in csv.DictReader(f)}
    diffs = np.array([v - value[(baseline, k, x)] for (c, k, x), v in value.items() if c == curve and x == snr])
    assert len(diffs) == 3
    mean, low, high = mean_interval(diffs.sum(), np.square(diffs).sum(), len(diffs))
    printed = f"{mean:+.2f} [{low:+.2f}, {high:+.2f}]"
    assert printed in _readme().replace(" dB [", " ["), (csv_name, curve, snr, column, printed)
