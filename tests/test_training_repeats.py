"""The same scenario and seed train the same weights: every system's smallest curve trained twice, each time
in a fresh process, ends with bit-identical weights (and equal initial weights, since the seed is set
before any layer is constructed)."""
import pathlib
import subprocess
import sys

import h5py
import numpy as np
import pytest
import yaml

from tests.test_amp_sc import tiny_amp
from tests.test_scdm import tiny_scdm
from tests.test_training import tiny_learned
from tests.test_vscc import tiny_vscc

ROOT = pathlib.Path(__file__).resolve().parents[1]


def _disc_med():
    """A one-stage ct_segmenter training on CT phantoms (the case that differed from run to run)."""
    stages = [{"type": "ct_segmenter", "filters": 4, "levels": 2, "keep_ct": True, "tap": "tx_segmentation"},
              {"type": "semantic_extraction"}, {"type": "strided_compress"}, {"type": "real_awgn"}, {"type": "trilinear_restore"},
              {"type": "semantic_denoiser", "filters": 4}, {"type": "ddpm_reconstruction", "filters": 4, "levels": 2, "sampling_steps": 2},
              {"type": "ct_segmenter", "filters": 4, "levels": 2}]
    return {"name": "disc_med_tiny", "seed": 4, "data": {"dataset": "ct-phantom", "shape": [4, 16, 16], "train_patients": 4, "test_patients": 2},
            "snr": {"convention": "snr", "values": [5.0]},
            "montecarlo": {"batch_size": 2, "max_samples": 2, "target_errors": None, "execution": "graph"},
            "curves": [{"name": "seg", "signal_power": 0.02, "source": {"type": "images"}, "stages": stages,
                        "metrics": [{"type": "power", "sent": "latent"}],
                        "training": {"stages": [{"name": "seg", "train": ["tx_segmentation"], "loss": "segmenter_ce", "epochs": 2,
                                                 "batch_size": 2, "learning_rate": 3e-3}]}}]}


SYSTEMS = {  # system: (scenario, its smallest trained curve)
    "conv": (tiny_learned(), "codec"),
    "jcm+scdm": (tiny_scdm(), "jcm"),
    "amp_sc": (tiny_amp(), "conventional"),
    "vscc": (tiny_vscc(), "vscc"),
    "disc_med": (_disc_med(), "seg"),
}


def _weights(root: pathlib.Path) -> dict:
    """Every array of every learned.weights.h5 under ``root``, by its path inside the checkpoint root."""
    arrays = {}
    for file in sorted(root.rglob("current/learned.weights.h5")):
        with h5py.File(file, "r") as f:
            f.visititems(lambda name, obj: arrays.__setitem__(f"{file.relative_to(root)}:{name}", obj[()])
                         if isinstance(obj, h5py.Dataset) else None)
    return arrays


@pytest.mark.parametrize("system", sorted(SYSTEMS))
def test_the_smallest_curve_of_each_system_trains_to_the_same_weights_in_two_processes(system, tmp_path):
    spec, curve = SYSTEMS[system]
    path = tmp_path / "s.yaml"
    path.write_text(yaml.safe_dump(spec))
    runs = [subprocess.Popen([sys.executable, "-m", "linksim", "train", str(path), "--curves", curve, "--quiet",
                              "--checkpoints", str(tmp_path / name)], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            for name in ("a", "b")]
    for run in runs:
        _, err = run.communicate(timeout=600)
        assert run.returncode == 0, err[-2000:]
    first, second = _weights(tmp_path / "a"), _weights(tmp_path / "b")
    assert first and first.keys() == second.keys()
    for key in first:
        np.testing.assert_array_equal(first[key], second[key], err_msg=key)
