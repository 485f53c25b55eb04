"""Crash safety: kill -9 and --resume equal an uninterrupted run; damaged or foreign files refused."""
import copy
import os
import signal
import subprocess
import sys
import time

import h5py
import pytest

from linksim.cli import main
from linksim.output.results import _seal
from linksim.run.montecarlo import run_scenario
from linksim.output.results import CurveResults, Results
from linksim.scenario import parse_scenario
from tests.conftest import tiny_scenario


def _slow_scenario(max_samples=6000):
    return tiny_scenario(
        snr={"convention": "ebno", "values": [0.0, 2.0, 4.0, 6.0]},
        montecarlo={"batch_size": 100, "target_errors": None, "max_samples": max_samples, "execution": "graph",
                    "checkpoint_seconds": 0.0},
    )


def _counts(points):
    return [(p.curve, p.index, p.snr_db, p.samples, p.chunks, p.stop_reason, p.stats) for p in points]


def test_sigkill_then_resume_equals_an_uninterrupted_run(write_scenario, tmp_path):
    path = write_scenario(_slow_scenario(max_samples=15000))  # 150 chunks a point: time to kill it mid-point
    reference, killed = tmp_path / "reference.h5", tmp_path / "killed.h5"
    assert main(["run", path, "--out", str(reference), "--quiet"]) == 0

    proc = subprocess.Popen([sys.executable, "-m", "linksim.cli", "run", path, "--out", str(killed), "--quiet"])
    deadline = time.time() + 120
    while time.time() < deadline:  # wait until one point is done and the next one is under way
        time.sleep(0.1)
        assert proc.poll() is None, "the run ended before it could be killed"
        try:
            results = Results.load(killed)
        except Exception:
            continue
        curve = results.curves[0]
        if len(curve.points) >= 1 and curve.partial is not None and curve.partial.chunks >= 5:
            break
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    interrupted = Results.load(killed)  # the last commit is intact
    assert interrupted.attrs["status"] == "running"
    done_before = len(interrupted.curves[0].points)
    assert 0 < done_before < 4 and interrupted.curves[0].partial.chunks >= 5

    assert main(["run", path, "--out", str(killed), "--resume", "--quiet"]) == 0
    resumed, uninterrupted = Results.load(killed), Results.load(reference)
    assert resumed.attrs["status"] == "complete"
    assert _counts(resumed.curves[0].points) == _counts(uninterrupted.curves[0].points)
    assert not [f for f in os.listdir(tmp_path) if ".tmp-" in f and str(proc.pid) not in f]


def test_resume_from_any_chunk_is_exact():
    """Continue point 2 from its 17th chunk with points 0-1 done: same counts as one run."""
    scenario = parse_scenario(_slow_scenario())
    reference = run_scenario(scenario)
    snapshot = {}

    def keep_chunk_17_of_point_2(point):
        if point.index == 2 and point.chunks == 17:
            snapshot["partial"] = copy.deepcopy(point)

    run_scenario(scenario, on_chunk=keep_chunk_17_of_point_2)
    finished = [p for p in reference if p.index < 2]
    previous = Results({}, [CurveResults("qam16", 0, {}, None, finished, snapshot["partial"])])
    assert _counts(run_scenario(scenario, resume=previous)) == _counts(reference)


def test_resume_refuses_another_scenario_or_seed(write_scenario, tmp_path, capsys):
    out = tmp_path / "r.h5"
    assert main(["run", write_scenario(tiny_scenario()), "--out", str(out), "--quiet"]) == 0
    before = out.read_bytes()
    other = write_scenario(tiny_scenario(seed=99), "other.yaml")
    assert main(["run", other, "--out", str(out), "--resume"]) == 2
    err = capsys.readouterr().err
    assert "different scenario or seed" in err and err.count("\n") == 1
    assert out.read_bytes() == before


def test_resume_of_a_complete_run_changes_no_count(write_scenario, tmp_path):
    path, out = write_scenario(tiny_scenario()), tmp_path / "r.h5"
    assert main(["run", path, "--out", str(out), "--quiet"]) == 0
    first = Results.load(out)
    assert main(["run", path, "--out", str(out), "--resume", "--quiet"]) == 0
    assert _counts(Results.load(out).curves[0].points) == _counts(first.curves[0].points)


def test_altered_truncated_and_foreign_files_are_detected(write_scenario, tmp_path, capsys):
    path, out = write_scenario(tiny_scenario()), tmp_path / "r.h5"
    assert main(["run", path, "--out", str(out), "--quiet"]) == 0
    altered = tmp_path / "altered.h5"
    altered.write_bytes(out.read_bytes())
    with h5py.File(altered, "a") as f:  # changed through HDF5, then resealed: the content checksum still catches it
        f["curves/qam16/points/00001/ber"].attrs["errors"] = 1
    _seal(altered)
    edited = tmp_path / "edited.h5"
    edited.write_bytes(out.read_bytes())
    with h5py.File(edited, "a") as f:  # changed and not resealed: refused before HDF5 parses it
        f["curves/qam16/points/00001/ber"].attrs["errors"] = 1
    truncated = tmp_path / "truncated.h5"
    truncated.write_bytes(out.read_bytes()[: out.stat().st_size // 2])
    for damaged, message in ((altered, "checksum mismatch"), (edited, "SHA-256 differs"), (truncated, "SHA-256 differs")):
        assert main(["table", str(damaged)]) == 2
        assert message in capsys.readouterr().err
        assert main(["run", path, "--out", str(damaged), "--resume"]) == 2
        assert message in capsys.readouterr().err


def test_stray_temporary_file_of_a_crash_does_not_matter(write_scenario, tmp_path):
    path, out = write_scenario(tiny_scenario()), tmp_path / "r.h5"
    (tmp_path / "r.h5.tmp-12345").write_bytes(b"half a file")
    assert main(["run", path, "--out", str(out), "--quiet"]) == 0
    assert Results.load(out).attrs["status"] == "complete"


@pytest.mark.parametrize("flag", ["--address", "--workers"])
def test_ray_options_are_checked_before_anything_runs(flag, write_scenario, tmp_path, capsys):
    out = tmp_path / "r.h5"
    argv = ["run", write_scenario(tiny_scenario()), "--out", str(out)] + ([flag, "127.0.0.1:1"] if flag == "--address" else ["--backend", "ray", flag, "0"])
    assert main(argv) == 2
    assert not out.exists() and capsys.readouterr().err.count("\n") == 1


def test_a_run_of_some_curves_measures_what_the_full_run_measures(write_scenario, tmp_path, capsys):
    spec = tiny_scenario(snr={"convention": "ebno", "values": [0.0, 2.0]})
    second = copy.deepcopy(spec["curves"][0])
    second.update(name="qpsk", stages=[{"type": "mapper", "modulation": "qpsk"}, {"type": "awgn"}, {"type": "slicer", "modulation": "qpsk"}],
                  theory={"type": "awgn_ber", "modulation": "qpsk"})
    spec["curves"].append(second)
    path = write_scenario(spec)
    full, some = tmp_path / "full.h5", tmp_path / "some.h5"
    assert main(["run", path, "--out", str(full), "--quiet"]) == 0
    assert main(["run", path, "--out", str(some), "--quiet", "--curves", "qp*"]) == 0
    kept = Results.load(some)
    assert [c.name for c in kept.curves] == ["qpsk"] and kept.curves[0].index == 1
    assert _counts(kept.curves[0].points) == _counts(Results.load(full).curve("qpsk").points)  # seeds keyed by the curve's index

    assert main(["run", path, "--out", str(some), "--resume"]) == 2  # another selection than the file's
    assert "holds the curves qpsk, not qam16, qpsk" in capsys.readouterr().err
    both = tmp_path / "both.h5"
    assert main(["run", path, "--out", str(both), "--quiet", "--curves", "qpsk,qam*"]) == 0  # alternatives, in the scenario's order
    assert [c.name for c in Results.load(both).curves] == ["qam16", "qpsk"]
    assert main(["run", path, "--out", str(tmp_path / "none.h5"), "--curves", "bpsk*"]) == 2
    assert capsys.readouterr().err.strip() == f"linksim: error: --curves 'bpsk*' matches no curve of {path} (have: qam16, qpsk)"
    assert not (tmp_path / "none.h5").exists()
