"""Damaged results files, concurrent writers and a full disk: a one-line error (exit 2) or the identical
content, never a crash, a hang, a wrong number or a lost result."""
import errno
import json
import os
import pathlib
import subprocess
import sys
import time

import numpy as np
import yaml

import linksim
from linksim.cli import main
from linksim.output.results import SEAL_BYTES, Results
from tests.conftest import tiny_scenario

ROOT = pathlib.Path(__file__).resolve().parents[1]

CHECK_ALL = """
import contextlib, io, json, sys
from linksim.cli import main
scenario, reference, files = sys.argv[1], sys.argv[2], sys.argv[3:]
outcomes = []
for path in files:
    for argv in (["table", path], ["compare", path, "--baseline", "qam16"], ["plot", path, "--out", path + ".png"],
                 ["run", scenario, "--out", path, "--resume", "--quiet"]):
        err = io.StringIO()
        with contextlib.redirect_stdout(io.StringIO()) as out, contextlib.redirect_stderr(err):
            code = main(argv)
        same = None
        if code == 0 and argv[0] == "table":
            with contextlib.redirect_stdout(io.StringIO()) as ref:
                main(["table", reference])
            same = out.getvalue() == ref.getvalue()
        outcomes.append([path, argv[0], code, err.getvalue(), same])
print(json.dumps(outcomes))
"""


def _results_file(tmp_path):
    spec = tiny_scenario(snr={"convention": "ebno", "values": [0.0, 2.0]})
    spec["montecarlo"].update(max_samples=400, target_errors=None)
    path = tmp_path / "tiny.yaml"
    path.write_text(yaml.safe_dump(spec))
    out = tmp_path / "good.h5"
    assert main(["run", str(path), "--out", str(out), "--quiet"]) == 0
    return path, out


def _damaged_copies(good: pathlib.Path, folder: pathlib.Path) -> list[str]:
    content = good.read_bytes()
    size = len(content)
    rng = np.random.default_rng(11)
    offsets = sorted({0, 5, 30, 100, SEAL_BYTES - 1, SEAL_BYTES, SEAL_BYTES + 8, SEAL_BYTES + 40, size - 1,
                      *rng.integers(0, size, 60).tolist()})
    copies = []
    for k, offset in enumerate(offsets):  # one flipped byte: in the seal, its padding, the HDF5 superblock, the body, the end
        damaged = bytearray(content)
        damaged[offset] ^= 1 << (k % 8)
        copies.append(("flip", offset, bytes(damaged)))
    for length in (0, 1, SEAL_BYTES - 1, SEAL_BYTES, SEAL_BYTES + 100, size // 2, size - 100, size - 1):
        copies.append(("truncate", length, content[:length]))
    for extra in (b"\0", b"garbage" * 10, rng.bytes(4096)):
        copies.append(("append", len(extra), content + extra))
    copies.append(("random", size, rng.bytes(size)))
    paths = []
    for n, (kind, where, data) in enumerate(copies):
        path = folder / f"{n:03d}-{kind}-{where}.h5"
        path.write_bytes(data)
        paths.append(str(path))
    return paths


def test_every_damaged_copy_is_identical_or_a_one_line_exit_2_for_every_command(tmp_path):
    scenario, good = _results_file(tmp_path)
    reference = tmp_path / "reference.h5"
    reference.write_bytes(good.read_bytes())
    folder = tmp_path / "damaged"
    folder.mkdir()
    paths = _damaged_copies(good, folder)
    result = subprocess.run([sys.executable, "-c", CHECK_ALL, str(scenario), str(reference), *paths], capture_output=True, text=True,
                            timeout=900, cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]  # a crash (a signal) of any command fails here
    outcomes = json.loads(result.stdout.splitlines()[-1])
    assert len(outcomes) == 4 * len(paths)
    refused = 0
    for path, command, code, err, same in outcomes:
        if code == 0:
            assert command != "table" or same, f"{path}: table read a damaged file as different content"
        else:
            assert code == 2 and err.count("\n") == 1 and err.startswith("linksim: error: "), (path, command, code, err)
            refused += 1
    loaded = {path for path, command, code, _, _ in outcomes if command == "table" and code == 0}
    assert all("-flip-" in p and SEAL_BYTES > int(p.split("-")[-1][:-3]) >= 100 for p in loaded), loaded  # only seal padding
    assert refused >= 3 * len(paths)


def test_a_checksum_correct_file_with_impossible_counts_is_refused(tmp_path, capsys):
    _, good = _results_file(tmp_path)
    results = Results.load(good)
    stats = results.curves[0].points[0].stats["ber"]
    stats["errors"] = stats["trials"] * 32  # a BER of 32 with a recomputed checksum and seal
    results.write(good)
    assert main(["table", str(good)]) == 2
    assert "errors in" in capsys.readouterr().err


def test_a_second_writer_of_the_same_file_is_refused_at_once_and_the_first_keeps_its_results(tmp_path):
    slow = tiny_scenario(name="first", snr={"convention": "ebno", "values": [0.0]})
    slow["montecarlo"].update(batch_size=2000, max_samples=2_000_000, target_errors=None, max_seconds=20)
    other = tiny_scenario(name="second")
    for name, spec in (("first.yaml", slow), ("second.yaml", other)):
        (tmp_path / name).write_text(yaml.safe_dump(spec))
    out = tmp_path / "shared.h5"
    first = subprocess.Popen([sys.executable, "-m", "linksim", "run", "first.yaml", "--out", str(out), "--quiet"], cwd=tmp_path,
                             stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 120
    while not out.exists() and time.time() < deadline:  # the first run has its lock and has committed its start
        time.sleep(0.2)
    began = time.time()
    second = subprocess.run([sys.executable, "-m", "linksim", "run", "second.yaml", "--out", str(out), "--quiet", "--force"],
                            cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert second.returncode == 2 and "another linksim run is writing it (pid" in second.stderr, second.stderr
    assert time.time() - began < 30
    assert first.wait(timeout=300) == 0, first.stderr.read()[-2000:]
    assert Results.load(out).attrs["name"] == "first" and Results.load(out).attrs["status"] == "complete"
    assert not (tmp_path / "shared.h5.lock").exists()


def test_a_full_disk_is_reported_as_such_and_leaves_no_temp_file(tmp_path, capsys, monkeypatch):
    spec = tiny_scenario()
    spec["montecarlo"].update(target_errors=None)
    path = tmp_path / "tiny.yaml"
    path.write_text(yaml.safe_dump(spec))
    real_write, calls = Results._write_hdf5, []

    def fill_up(self, tmp):
        calls.append(tmp)
        if sum(len(c.points) for c in self.curves) >= 2:  # the first point committed, then the disk is full
            with open(tmp, "wb") as f:
                f.write(b"partial")
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), tmp)
        real_write(self, tmp)

    monkeypatch.setattr(Results, "_write_hdf5", fill_up)
    out = tmp_path / "r.h5"
    assert main(["run", str(path), "--out", str(out), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "disk full (No space left on device)" in err, err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r.h5", "tiny.yaml"]  # no temp file, no lock left
    monkeypatch.undo()
    kept = Results.load(out)
    assert kept.attrs["status"] == "failed" and "disk full" in kept.attrs["error"]
    assert len(kept.curves[0].points) == 1  # the point committed before the disk filled up


def test_results_from_an_unsealed_hdf5_file_are_refused_without_parsing(tmp_path, capsys):
    import h5py

    path = tmp_path / "old.h5"
    with h5py.File(path, "w") as f:
        f.attrs["format"] = "linksim-results"
    assert main(["table", str(path)]) == 2
    assert "without linksim's seal" in capsys.readouterr().err
    assert linksim.Results  # the API's class is the one the commands read
