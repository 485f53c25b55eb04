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
    ("vscc_headline", "vae-5dB", "psnr", None, "vscc-kb-5dB", True),
    ("vscc_headline", "vscc-kb-5dB", "psnr", None, "ae-5dB", False),
    ("disc_med_headline", "no-denoiser", "dice", (-5, -5), "disc-med", True),
    ("disc_med_headline", "no-denoiser", "dice", (0, 0), "disc-med", True),
    ("disc_med_headline", "no-denoiser", "dice", (5, 5), "disc-med", True),
    ("disc_med_headline", "dcae", "dice", (-5, -5), "disc-med", True),
    ("disc_med_headline", "dcae", "dice", (0, 0), "disc-med", True),
    ("disc_med_headline", "dcae", "dice", (5, 5), "disc-med", True),
]
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
