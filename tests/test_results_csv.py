"""Results CSVs read back: ``table``, ``compare`` and ``plot`` give from a run's CSV what they give from
its HDF5 file, damaged CSVs are one-line errors, and every committed CSV and every comparison the
scenarios and docs quote runs on the committed CSVs."""
import glob
import math
import os
import re

import pytest

from linksim.cli import main
from linksim.engine.statistics import summarize
from linksim.output.results import Results
from tests.test_cli_and_results import _cells
from tests.test_replicates import _replicated

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@pytest.fixture(scope="module")
def run_files(tmp_path_factory):
    """A run with a replicated learned curve, an unreplicated one and an uncoded BER curve with its closed form."""
    import yaml

    folder = tmp_path_factory.mktemp("csv")
    spec = _replicated(3)
    spec["curves"].append({**spec["curves"][0], "name": "single", "training": {**spec["curves"][0]["training"], "replicates": 1}})
    spec["curves"].append({"name": "qam16", "source": {"type": "bits", "num_bits": 256},
                           "stages": [{"type": "mapper", "modulation": "qam16"}, {"type": "awgn"}, {"type": "slicer", "modulation": "qam16"}],
                           "metrics": [{"type": "ber"}, {"type": "bler"}], "theory": {"type": "awgn_ber", "modulation": "qam16"}})
    spec["snr"] = {"convention": "esno", "values": [4.0, 8.0, 12.0]}
    path = folder / "s.yaml"
    path.write_text(yaml.safe_dump(spec))
    assert main(["run", str(path), "--out", str(folder / "r.h5"), "--quiet", "--checkpoints", str(folder / "ck")]) == 0
    return Results.load(folder / "r.h5"), Results.load(folder / "r.csv"), folder


def test_a_csv_holds_the_values_intervals_kinds_and_confidence_of_its_results_file(run_files):
    h5, csv, _ = run_files
    assert csv.names == h5.names and csv.convention == h5.convention and csv.attrs["confidence"] == 0.95
    for a, b in zip(h5.curves, csv.curves):
        assert b.metrics == a.metrics  # rates told from means by their intervals alone
        assert (b.theory is None) == (a.theory is None)
        if a.theory is not None:  # identified by its values: the closed form itself, not a table of it
            assert {k: b.theory[k] for k in ("type", "modulation", "labelling")} == {"labelling": "gray", **a.theory}
            assert b.theory["equal_to"] == []  # against Es/N0 no other closed form gives 16-QAM's values
        if a.signal_power is not None:
            assert b.signal_power == pytest.approx(a.signal_power, rel=1e-5)
        for p, q in zip(a.points, b.points):
            assert q.snr_db == p.snr_db
            for name, kind in a.metrics.items():
                expected, read = summarize(kind, p.stats[name], 0.95, "clopper-pearson"), q.summaries[name]
                assert read.count == expected.count
                for x, y in ((read.value, expected.value), (read.low, expected.low), (read.high, expected.high)):
                    assert x == pytest.approx(y, rel=1e-6, abs=1e-12) or (math.isnan(x) and math.isnan(y))


def test_compare_table_and_plot_give_the_same_from_the_csv(run_files, capsys):
    h5, csv, folder = run_files
    for axis in ("nominal", "effective"):
        gaps_h5, gaps_csv = (r.gaps("single", "psnr", curves="codec", axis=axis) for r in (h5, csv))
        assert gaps_csv["codec"].value == pytest.approx(gaps_h5["codec"].value, abs=1e-5)
        assert gaps_csv["codec"].low == pytest.approx(gaps_h5["codec"].low, abs=1e-5)
        assert csv.compare("single", "psnr", curves="codec", axis=axis) == h5.compare("single", "psnr", curves="codec", axis=axis)
    assert csv.compare("qam16", "ber", at=1e-2, curves="qam16") == h5.compare("qam16", "ber", at=1e-2, curves="qam16")
    assert main(["table", str(folder / "r.csv")]) == 0
    from_csv = capsys.readouterr().out
    assert main(["table", str(folder / "r.h5")]) == 0
    from_h5 = capsys.readouterr().out
    keep = ("BER", "psnr", "mean over 3 replicates")
    assert [line for line in from_csv.splitlines() if line.startswith("  ")][-3:] == [line for line in from_h5.splitlines() if line.startswith("  ")][-3:]
    assert all(word in from_csv for word in keep) and "closed form" in from_csv and "eff. Es/N0 dB" in from_csv
    assert main(["plot", str(folder / "r.csv"), "--out", str(folder / "csv.png")]) == 0 and os.path.getsize(folder / "csv.png") > 10_000


@pytest.mark.parametrize("content, expected", [
    ("curve,snr\nx,1\n", "line 1: expected the header curve,snr_db,convention,metric,value,ci_low,ci_high,count"),
    ("curve,snr_db,convention,metric,value,ci_low,ci_high,count\nc,1,esno,ber,0.5,0.4,0.6\n", "line 2: not a results row (7 fields, expected 8)"),
    ("curve,snr_db,convention,metric,value,ci_low,ci_high,count\nc,one,esno,ber,0.5,0.4,0.6,10\n", "line 2: not a results row"),
    ("curve,snr_db,convention,metric,value,ci_low,ci_high,count\nc,1,dbm,ber,0.5,0.4,0.6,10\n", "an unknown convention"),
    ("curve,snr_db,convention,metric,value,ci_low,ci_high,count\nc,1,esno,ber,0.5,0.4,0.6,10\nc,1,esno,ber,0.5,0.4,0.6,10\n",
     "line 3: a second row of 'c', 'ber' at 1 dB"),
    ("curve,snr_db,convention,metric,value,ci_low,ci_high,count\nc,1,esno,ber,0.5,0.4,0.6,10\nc,2,esno,psnr,20,19,21,10\n",
     "curve 'c' has no 'psnr' row at 1 dB"),
    ("curve,snr_db,convention,metric,value,ci_low,ci_high,count\n", "no rows"),
    (b"\xff\xfe", "not a CSV text file"),
])
def test_a_damaged_csv_is_a_one_line_error(tmp_path, capsys, content, expected):
    path = tmp_path / "bad.csv"
    path.write_bytes(content if isinstance(content, bytes) else content.encode())
    for argv in (["table", str(path)], ["compare", str(path), "--baseline", "c"], ["plot", str(path), "--out", str(tmp_path / "p.png")]):
        assert main(argv) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and expected in err, err
    assert not (tmp_path / "p.png").exists()


def _long_format_csvs() -> list[str]:
    found = []
    for path in sorted(glob.glob(os.path.join(REPO, "results", "*.csv"))):
        with open(path) as f:
            if f.readline().startswith("curve,snr_db,convention,metric,"):
                found.append(path)
    return found


@pytest.mark.parametrize("path", _long_format_csvs(), ids=os.path.basename)
def test_every_committed_results_csv_reads_as_a_table(path, capsys):
    assert main(["table", path]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert max(map(len, lines)) <= 100 and any(line.startswith("# curve") for line in lines)


def _quoted_comparisons() -> list[tuple[str, list[str]]]:
    """Every ``linksim compare results/X.h5 …`` that a scenario or a doc quotes, where results/X.csv is committed."""
    commands = set()
    sources = glob.glob(os.path.join(REPO, "scenarios", "*.yaml")) + [os.path.join(REPO, "README.md")] + \
        glob.glob(os.path.join(REPO, "docs", "**", "*.md"), recursive=True)
    for source in sources:
        with open(source) as f:
            for found in re.finditer(r"linksim compare (results/[\w.-]+)\.h5((?: --?[\w-]+(?:[ =](?:'[^']*'|[^\s`|'\[]+))?)*)", f.read()):
                csv_path = os.path.join(REPO, found.group(1) + ".csv")
                if os.path.exists(csv_path):
                    args = [a.strip("'") for a in re.findall(r"'[^']*'|\S+", found.group(2))]
                    if "--baseline" in args[:-1]:  # not a command sketched in prose with its baseline left out
                        commands.add((os.path.basename(csv_path), tuple(args)))
    return sorted(commands)


@pytest.mark.parametrize("csv_name, args", _quoted_comparisons(), ids=lambda x: " ".join(x) if isinstance(x, tuple) else x)
def test_every_quoted_comparison_runs_on_its_committed_csv(csv_name, args, capsys):
    assert main(["compare", os.path.join(REPO, "results", csv_name), *args]) == 0, capsys.readouterr().err
    out = capsys.readouterr().out
    assert max(map(len, out.splitlines())) <= 100
    assert any(row[0] == "mean" for row in _cells(out)) or "needs dB" in out


def test_metric_panels_sit_on_a_page_wide_grid_with_each_closed_form_once(run_files, tmp_path):
    """Three metric panels on two columns (at most about 17 cm wide at 120 dpi), readable titles, and
    the two curves that share one closed form draw it once, labelled as the uncoded bound it is."""
    from PIL import Image

    from linksim.output.plot import plot_results

    import dataclasses

    h5, csv, _ = run_files
    twin = Results(h5.attrs, h5.curves + [dataclasses.replace(h5.curve("qam16"), name="qam16-again")], h5.path)  # one closed form, twice
    panels = plot_results(twin, tmp_path / "grid.png")
    width, height = Image.open(tmp_path / "grid.png").size
    assert width <= 1100 and height > width / 2  # two columns, several rows: not one strip
    assert {"PSNR [dB]", "BER", "BLER", "transmit power (measured)"} <= set(panels)
    assert panels["BER"].count("closed form: uncoded 16-QAM, AWGN") == 1
    from_csv = plot_results(Results(csv.attrs, csv.curves + [dataclasses.replace(csv.curve("qam16"), name="qam16-again")], csv.path),
                            tmp_path / "csv.png")
    assert from_csv["BER"].count("closed form: uncoded 16-QAM, AWGN") == 1


def test_a_csv_closed_form_is_named_by_its_values_and_equal_ones_are_named_together():
    """Against Eb/N0, BPSK's closed form is QPSK's (and Gray 16-QAM's is 4-PAM's): a CSV's values name both;
    values of no closed form stay a table, labelled as such."""
    from linksim.output.plot import closed_form_label
    from linksim.output.results_csv import _identified_closed_form
    from linksim.phy.ber_theory import ber_awgn, ber_rayleigh

    snrs = [0.0, 4.0, 8.0]
    assert closed_form_label([_identified_closed_form(snrs, ber_awgn("qpsk", snrs, "ebno"), "ebno")]) == "closed form: uncoded BPSK = QPSK, AWGN"
    assert closed_form_label([_identified_closed_form(snrs, ber_awgn("qam64", snrs, "ebno"), "ebno")]) == "closed form: uncoded 64-QAM = 8-PAM, AWGN"
    assert closed_form_label([_identified_closed_form(snrs, ber_rayleigh("qam16", snrs), "esno")]) == "closed form: uncoded 16-QAM, Rayleigh"
    shifted = _identified_closed_form(snrs, ber_awgn("qam16", [s - 0.3 for s in snrs], "esno"), "esno")  # an energy overhead
    assert shifted["type"] == "tabulated" and closed_form_label([shifted]) == "closed form (values from the CSV)"


def test_plot_overlays_several_files_and_names_clashing_curves_by_their_file(run_files, tmp_path, capsys):
    h5, csv, folder = run_files
    merged = Results.merged([h5, csv], curves="codec,qam16")
    assert merged.names == [f"r.{ext}:{name}" for ext in ("h5", "csv") for name in ("codec#r0", "codec#r1", "codec#r2", "qam16")]
    assert Results.merged([h5, csv], curves="single").names == ["r.h5:single", "r.csv:single"]
    assert main(["plot", str(folder / "r.h5"), str(folder / "r.csv"), "--curves", "codec", "--out", str(tmp_path / "o.png")]) == 0
    assert (tmp_path / "o.png").stat().st_size > 10_000
    assert main(["plot", str(folder / "r.h5"), "--curves", "nothing-*", "--out", str(tmp_path / "n.png")]) == 2
    assert "no curve matches 'nothing-*'" in capsys.readouterr().err


def _mutations():
    from hypothesis import strategies as st

    text_ops = st.sampled_from(["cut", "drop_line", "swap_lines", "replace_field", "duplicate_line", "insert_byte"])
    return st.lists(st.tuples(text_ops, st.integers(0, 10**6), st.integers(0, 10**6),
                              st.sampled_from(["", "nan", "inf", "-1", "2", "1e400", "x", "qam", "ebno", '"a,b"', "\x00", "1" * 30])),
                    min_size=1, max_size=4)


def _mutate(text: str, operations) -> str:
    lines = text.splitlines()
    for op, a, b, token in operations:
        i, j = a % len(lines), b % len(lines)
        if op == "cut":
            text = "\n".join(lines)
            lines = text[: a % (len(text) + 1)].splitlines() or [""]
        elif op == "drop_line" and len(lines) > 1:
            del lines[i]
        elif op == "swap_lines":
            lines[i], lines[j] = lines[j], lines[i]
        elif op == "replace_field":
            fields = lines[i].split(",")
            fields[b % len(fields)] = token
            lines[i] = ",".join(fields)
        elif op == "duplicate_line":
            lines.insert(j, lines[i])
        else:
            lines[i] = lines[i][: b % (len(lines[i]) + 1)] + token + lines[i][b % (len(lines[i]) + 1):]
    return "\n".join(lines) + "\n"


def test_mutated_csvs_are_read_or_refused_in_one_line_never_a_crash(tmp_path):
    """Hypothesis mutants of a committed results CSV (cut, lines dropped, swapped or repeated, fields
    replaced by junk): ``table``, ``compare`` and ``plot`` exit 0, or 2 with one line on stderr."""
    import contextlib
    import io

    from hypothesis import HealthCheck, given, settings

    with open(os.path.join(REPO, "results", "quickstart.csv")) as f:
        original = f.read()
    outcomes = set()

    @settings(max_examples=60, deadline=None, derandomize=True, database=None, suppress_health_check=list(HealthCheck))
    @given(operations=_mutations())
    def check(operations):
        path = tmp_path / "mutant.csv"
        path.write_text(_mutate(original, operations), errors="surrogateescape")
        for argv in (["table", str(path)], ["compare", str(path), "--baseline", "learned-16qam"],
                     ["plot", str(path), "--out", str(tmp_path / "m.png")]):
            err = io.StringIO()
            with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
                code = main(argv)
            assert code in (0, 2), (argv, err.getvalue())
            assert code == 0 or err.getvalue().count("\n") == 1, err.getvalue()
            outcomes.add(code)

    check()
    assert outcomes == {0, 2}  # some mutants still read, others are refused


def test_a_csv_that_is_not_a_regular_file_is_refused_without_blocking(tmp_path, capsys):
    fifo = tmp_path / "pipe.csv"
    os.mkfifo(fifo)  # reading it would block until a writer came
    assert main(["table", str(fifo)]) == 2
    assert "not a regular file" in capsys.readouterr().err
