"""End to end: run → HDF5 → table/CSV → plot; bertable; list; Sionna interop."""
import csv
import io
import json

import h5py
import numpy as np
import pytest
import yaml

from linksim.cli import main
from linksim.output.results import Results
from linksim.phy.ber_theory import ber_awgn
from tests.conftest import tiny_scenario


@pytest.fixture
def finished_run(write_scenario, tmp_path, capsys):
    path = write_scenario(tiny_scenario())
    out = tmp_path / "r.h5"
    assert main(["run", path, "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    return path, out, printed


def test_run_prints_live_table_and_writes_self_describing_results(finished_run):
    path, out, printed = finished_run
    assert "Eb/N0 dB" in printed and "BER" in printed and "ETA" in printed and printed.count("\n  ") >= 3
    results = Results.load(out)
    a = results.attrs
    assert a["status"] == "complete" and a["seed"] == 7 and a["convention"] == "ebno"
    assert json.loads(a["versions"])["sionna-no-rt"] == "1.2.2"
    assert a["git_commit"] and a["started_utc"] and a["finished_utc"]
    assert yaml.safe_load(a["scenario"])["curves"][0]["name"] == "qam16"
    points = results.curves[0].points
    assert [p.snr_db for p in points] == [0.0, 2.0, 4.0]
    assert all(p.stats["ber"]["trials"] == p.samples * 256 for p in points)


def test_quiet_run_prints_nothing(write_scenario, tmp_path, capsys):
    assert main(["run", write_scenario(tiny_scenario()), "--out", str(tmp_path / "q.h5"), "--quiet"]) == 0
    assert capsys.readouterr().out == ""


def test_table_csv_is_traceable_to_the_stored_counts(finished_run, capsys):
    _, out, _ = finished_run
    assert main(["table", str(out), "--csv"]) == 0
    exported = capsys.readouterr().out
    assert (out.parent / "r.csv").read_text() == exported  # `run` writes the same export next to the results
    rows = list(csv.DictReader(io.StringIO(exported)))
    assert list(rows[0]) == ["curve", "snr_db", "convention", "metric", "value", "ci_low", "ci_high", "count"]
    with h5py.File(out) as f:
        for row in rows:
            if row["metric"] == "ber_closed_form":
                assert float(row["value"]) == pytest.approx(float(ber_awgn("qam16", float(row["snr_db"]), "ebno")), rel=1e-6)
                continue
            point = next(g for g in f["curves/qam16/points"].values() if g.attrs["snr_db"] == float(row["snr_db"]))
            if row["metric"] in ("tx_power", "effective_snr_db"):  # the measured unit power of the 16-QAM symbols
                power = point["tx_power"].attrs
                assert int(row["count"]) == power["count"]
                mean = power["sum"] / power["count"]
                expected = mean if row["metric"] == "tx_power" else float(row["snr_db"]) + 10 * np.log10(mean)
                assert float(row["value"]) == pytest.approx(expected, rel=1e-6) and abs(mean - 1) < 0.01
                continue
            stats = point[row["metric"]].attrs
            assert int(row["count"]) == stats["trials"]
            assert float(row["value"]) == pytest.approx(stats["errors"] / stats["trials"], rel=1e-6)
            assert float(row["ci_low"]) <= float(row["value"]) <= float(row["ci_high"])
    assert main(["table", str(out)]) == 0
    assert "closed form" in capsys.readouterr().out


def _cells(text) -> list[list[str]]:
    """The header and rows of a printed table (``|``-separated; comment and rule lines dropped but the header)."""
    lines = [line for line in text.splitlines() if "|" in line]
    return [[cell.strip() for cell in line.lstrip("#").split("|")] for line in lines]


def test_compare_keeps_the_snr_window_and_the_matching_curves(write_scenario, tmp_path, capsys):
    spec = tiny_scenario()
    qpsk = {**spec["curves"][0], "name": "qpsk", "theory": {"type": "awgn_ber", "modulation": "qpsk"},
            "stages": [{"type": "mapper", "modulation": "qpsk"}, {"type": "awgn"}, {"type": "slicer", "modulation": "qpsk"}]}
    spec["curves"] += [qpsk, {**qpsk, "name": "other-with-a-long-name"}]
    out = tmp_path / "c.h5"
    assert main(["run", write_scenario(spec), "--out", str(out), "--quiet"]) == 0
    ber = {c.name: {p.snr_db: p.stats["ber"]["errors"] / p.stats["ber"]["trials"] for p in c.points} for c in Results.load(out).curves}
    assert main(["compare", str(out), "--metric", "ber", "--baseline", "qam16", "--snr", "1:4", "--curves", "q*"]) == 0
    header, *rows = _cells(capsys.readouterr().out)
    assert header[1:] == ["qam16", "qpsk", "ratio"]  # 'other-…' left out by the pattern; rates compare as ratios
    assert [float(row[0]) for row in rows[:-1]] == [2.0, 4.0]  # 0 dB is outside [1, 4]
    mean = rows[-1]
    assert mean[0] == "mean" and float(mean[1]) == pytest.approx(np.mean([ber["qam16"][2.0], ber["qam16"][4.0]]), rel=1e-2)
    ratio = np.sqrt(np.prod([ber["qpsk"][s] / ber["qam16"][s] for s in (2.0, 4.0)]))  # geometric mean
    assert float(mean[3].lstrip("×")) == pytest.approx(ratio, rel=0.01)
    assert Results.load(out).gaps("qam16", "ber", snr=(1, 4), curves="q*")["qpsk"].value == pytest.approx(ratio, rel=1e-9)
    assert main(["compare", str(out), "--metric", "ber", "--baseline", "qam16", "--snr", "5:9"]) == 2
    assert "no SNR point in [5, 9] dB" in capsys.readouterr().err
    assert main(["compare", str(out), "--metric", "ber", "--baseline", "qam16"]) == 0
    assert _cells(capsys.readouterr().out)[0][-2:] == ["other-with-a-long-name", "ratio"]  # names are never cut
    assert main(["compare", str(out), "--metric", "ber", "--baseline", "qam16", "--curves", "qpsk,other-*"]) == 0
    assert _cells(capsys.readouterr().out)[0][1:] == ["qam16", "qpsk", "ratio", "other-with-a-long-name", "ratio"]

    assert main(["table", str(out), "--snr", "2", "--metrics", "b?r"]) == 0  # one point, curves × metrics
    lines = capsys.readouterr().out.splitlines()
    assert lines[1].split() == ["curve", "ber"]
    assert {line.split()[0]: float(line.split()[1]) for line in lines[2:]} == pytest.approx({c: v[2.0] for c, v in ber.items()}, rel=1e-3)
    assert main(["table", str(out), "--snr", "3", "--metrics", "ber"]) == 2
    assert "no curve has a metric matching 'ber' at 3 dB (points: 0, 2, 4)" in capsys.readouterr().err
    assert main(["table", str(out), "--snr", "2"]) == 2


def test_plot_writes_a_png(finished_run, tmp_path, capsys):
    _, out, _ = finished_run
    fig = tmp_path / "fig.png"
    assert main(["plot", str(out), "--out", str(fig)]) == 0
    assert fig.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and fig.stat().st_size > 10_000
    assert main(["plot", str(out), "--out", str(tmp_path / "fig.txt")]) == 2


def test_table_refuses_files_that_are_not_results(tmp_path, capsys):
    other = tmp_path / "x.h5"
    with h5py.File(other, "w") as f:
        f.attrs["format"] = "something else"
    assert main(["table", str(other)]) == 2
    assert "an HDF5 file without linksim's seal" in capsys.readouterr().err  # another program's HDF5: never parsed
    junk = tmp_path / "junk.h5"
    junk.write_bytes(b"not hdf5 at all")
    assert main(["table", str(junk)]) == 2
    assert "not a linksim results file" in capsys.readouterr().err


def test_bertable_closed_form_csv(capsys):
    assert main(["bertable", "--modulation", "qam16", "--convention", "esno", "--snr", "0:18:1", "--csv"]) == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert list(rows[0]) == ["snr_db", "ber", "ci_low", "ci_high", "bit_errors", "bits", "source"]
    assert len(rows) == 19 and {r["source"] for r in rows} == {"closed_form"}
    assert float(rows[10]["ber"]) == pytest.approx(float(ber_awgn("qam16", 10.0, "esno")), rel=1e-6)


def test_bertable_measured_to_hdf5(tmp_path, capsys):
    out = tmp_path / "t.h5"
    argv = ["bertable", "--modulation", "qpsk", "--convention", "ebno", "--snr", "0:2:1", "--measured",
            "--target-errors", "500", "--max-bits", "2000000", "--out", str(out), "--csv"]
    assert main(argv) == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert [r["source"] for r in rows] == ["measured"] * 3 and all(int(r["bit_errors"]) >= 500 for r in rows)
    from linksim.phy.ber_table import BerTable

    assert np.array_equal(BerTable.load(out).bit_errors, [int(r["bit_errors"]) for r in rows])


def test_bertable_bad_snr_range_exits_2(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["bertable", "--modulation", "qam16", "--convention", "esno", "--snr", "5:0:1"])
    assert exc.value.code == 2


def test_list_names_every_registered_component(capsys):
    assert main(["list"]) == 0
    out = capsys.readouterr().out
    for name in ("bits", "mapper", "demapper", "slicer", "awgn", "rayleigh", "bsc", "label_channel", "quantizer", "ad", "da", "ber", "mse"):
        assert f"  {name} " in out


def test_phy_blocks_run_inside_sionnas_sim_ber():
    """Interop: linksim's blocks inside Sionna's own Monte Carlo loop, as in the README."""
    import tensorflow as tf
    from sionna.phy.mapping import BinarySource, Mapper
    from sionna.phy.utils import ebnodb2no, sim_ber

    from linksim.phy.channels import AWGN
    from linksim.phy.constellations import make_constellation
    from linksim.phy.demapping import SlicerDemapper

    constellation = make_constellation("qam16")
    source, mapper, channel, slicer = BinarySource(), Mapper(constellation=constellation), AWGN(), SlicerDemapper(constellation=constellation)

    @tf.function(jit_compile=True)
    def mc_fun(batch_size, ebno_db):
        bits = source([batch_size, 1024])
        y = channel(mapper(bits), ebnodb2no(ebno_db, 4, 1.0))
        return bits, slicer(y)

    ber, _ = sim_ber(mc_fun, np.array([4.0, 8.0]), batch_size=1000, max_mc_iter=20, num_target_bit_errors=2000, verbose=False)
    for value, ebno in zip(ber.numpy(), (4.0, 8.0)):
        assert value == pytest.approx(float(ber_awgn("qam16", ebno, "ebno")), rel=0.08)


def test_a_point_stopped_by_a_cap_before_its_error_target_is_flagged_in_the_live_table_and_the_table(write_scenario, tmp_path, capsys):
    spec = tiny_scenario()
    spec["montecarlo"].update({"target_errors": 10**6, "max_samples": 400})  # 16-QAM at 0-4 dB: far from 10^6 errors in 400 blocks
    out = tmp_path / "capped.h5"
    assert main(["run", write_scenario(spec), "--out", str(out)]) == 0
    header, *rows = _cells(capsys.readouterr().out)
    assert header[-1] == "ETA" and [row[-1] for row in rows] == ["sample cap"] * 3  # the cap where the ETA goes
    assert main(["table", str(out)]) == 0
    text = capsys.readouterr().out
    header, *rows = _cells(text)[:4]
    assert header[-1] == "stop" and [row[-1] for row in rows] == ["sample cap"] * 3
    assert max(map(len, text.splitlines())) <= 100
    spec["montecarlo"].update({"target_errors": 10, "max_samples": 400})  # reached: nothing flagged
    assert main(["run", write_scenario(spec, "reached.yaml"), "--out", str(tmp_path / "reached.h5"), "--quiet"]) == 0
    assert main(["table", str(tmp_path / "reached.h5")]) == 0
    assert "stop" not in _cells(capsys.readouterr().out)[0]
    assert main(["table", str(tmp_path / "reached.h5"), "--wide"]) == 0
    wide = _cells(capsys.readouterr().out)
    assert wide[0][-2:] == ["seconds", "stop"] and wide[1][-1] == "target_errors"
    from linksim.output.report import stop_flag

    assert (stop_flag("max_seconds", False), stop_flag("max_samples", False), stop_flag("target_errors", True)) == ("time cap", "", "")
