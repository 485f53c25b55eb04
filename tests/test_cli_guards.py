"""No silent wrong run: results files are never overwritten by surprise, learned stages never run on
random weights unasked, argparse errors are one line, a misspelt name gets a suggestion, and
`linksim list NAME` shows a component's parameters from the schema."""
import subprocess
import sys

from linksim.cli import main
from linksim.output.results import Results
from tests.conftest import tiny_scenario


def _learned_untrained(weights=None):
    curve = {"name": "codec", "source": {"type": "images"},
             "stages": [{"type": "conv_encoder", "latent_channels": 2, "filters": 4},
                        {"type": "conv_decoder", "latent_channels": 2, "filters": 4}],
             "metrics": [{"type": "psnr"}]}
    if weights:
        curve["weights"] = weights
    return {"name": "untrained", "seed": 1, "data": {"patch_size": 16}, "snr": {"convention": "snr", "values": [0.0]},
            "montecarlo": {"batch_size": 8, "max_samples": 8, "target_errors": None, "execution": "eager"}, "curves": [curve]}


def test_learned_stages_without_training_are_an_error_unless_random_weights_are_asked_for(write_scenario, tmp_path, capsys):
    assert main(["validate", write_scenario(_learned_untrained())]) == 2
    err = capsys.readouterr().err
    assert len(err.splitlines()) == 1 and "learned stage(s) 'latent', 'reconstruction' but no 'training' section" in err
    out = tmp_path / "u.h5"
    assert main(["run", write_scenario(_learned_untrained("random")), "--out", str(out), "--quiet"]) == 0
    assert Results.load(out).curve("codec").random_weights
    assert main(["table", str(out)]) == 0
    assert "UNTRAINED: learned stages with random weights" in capsys.readouterr().out


def test_results_go_to_h5_files_and_another_scenarios_file_is_not_overwritten(write_scenario, tmp_path, capsys):
    path = write_scenario(tiny_scenario())
    assert main(["run", path, "--out", str(tmp_path / "r.csv"), "--quiet"]) == 2
    assert "must end in .h5" in capsys.readouterr().err and not (tmp_path / "r.csv").exists()
    out = tmp_path / "r.h5"
    assert main(["run", path, "--out", str(out), "--quiet"]) == 0
    assert main(["run", path, "--out", str(out), "--quiet"]) == 0  # the same scenario again: replaced
    other = write_scenario({**tiny_scenario(), "name": "other"})
    before = out.read_bytes()
    assert main(["run", other, "--out", str(out), "--quiet"]) == 2
    assert "holds the results of scenario 'tiny'" in capsys.readouterr().err and out.read_bytes() == before
    assert main(["run", other, "--out", str(out), "--quiet", "--force"]) == 0
    assert Results.load(out).attrs["name"] == "other"


def test_argparse_errors_are_one_line_and_misspelt_names_get_a_suggestion(write_scenario, capsys):
    result = subprocess.run([sys.executable, "-m", "linksim", "run"], capture_output=True, text=True, timeout=120)
    assert result.returncode == 2 and result.stderr.count("\n") == 1 and "linksim: error: run:" in result.stderr
    assert main(["list", "awgnn"]) == 2
    assert "did you mean 'awgn'" in capsys.readouterr().err
    spec = tiny_scenario()
    spec["curves"][0]["stages"][1]["type"] = "awgnn"
    assert main(["validate", write_scenario(spec)]) == 2
    assert "did you mean 'awgn'?" in capsys.readouterr().err


def test_list_shows_a_components_parameters_from_the_schema(capsys):
    assert main(["list", "rayleigh"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("stage rayleigh: Rayleigh block fading")
    assert "  output tap: equalized (rename with 'tap:')" in lines
    assert "  block_length: int = 1  (> 0, ≤ 1048576)" in lines
    assert main(["list"]) == 0
    listing = capsys.readouterr().out
    assert "``" not in listing and ":class:" not in listing
    version = subprocess.run([sys.executable, "-m", "linksim", "--version"], capture_output=True, text=True, timeout=120)
    assert version.returncode == 0 and version.stdout.startswith("linksim ")


def test_a_misspelt_key_gets_a_suggestion_from_the_model_that_holds_it(write_scenario, capsys):
    spec = tiny_scenario()
    spec["montecarlo"]["max_sample"] = spec["montecarlo"].pop("max_samples")
    assert main(["validate", write_scenario(spec)]) == 2
    assert "montecarlo.max_sample: unknown key; did you mean 'max_samples'?" in capsys.readouterr().err
    spec = tiny_scenario()
    spec["curves"][0]["stages"][0]["labeling"] = "gray"
    assert main(["validate", write_scenario(spec)]) == 2
    assert "curves[0].stages[0].labeling: unknown key; did you mean 'labelling'?" in capsys.readouterr().err


def test_reading_commands_import_no_tensorflow(write_scenario, tmp_path):
    out = tmp_path / "r.h5"
    assert main(["run", write_scenario(tiny_scenario()), "--out", str(out), "--quiet"]) == 0
    code = ("import io, sys, contextlib\n"
            "from linksim.cli import main\n"
            f"path = {str(out)!r}\n"
            "with contextlib.redirect_stdout(io.StringIO()):\n"
            "    codes = [main(['table', path]), main(['table', path, '--csv']), main(['compare', path, '--baseline', 'qam16']),\n"
            f"             main(['plot', path, '--out', {str(tmp_path / 'p.png')!r}]), main(['list']), main(['list', 'awgn'])]\n"
            "print(codes, sorted(m for m in sys.modules if m.split('.')[0] in ('tensorflow', 'sionna', 'keras')))\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-1500:]
    assert result.stdout.strip() == "[0, 0, 0, 0, 0, 0] []"
    assert (tmp_path / "p.png").stat().st_size > 5000
