"""The wheel (``pip install .``, not editable) carries linksim, its phy and models packages, the shipped
scenarios and the shipped weights: installed in a fresh environment, linksim runs shipped scenarios by
name from a folder outside the repository."""
import os
import pathlib
import shutil
import subprocess
import sys
import sysconfig

ROOT = pathlib.Path(__file__).resolve().parents[1]
SOURCES = ("pyproject.toml", "README.md", "LICENSE", "linksim", "phy", "models", "scenarios")

RUN_SHIPPED = """
import linksim, yaml
from linksim.phy import ber_awgn
assert linksim.__file__.startswith({site!r}), linksim.__file__
paths = linksim.shipped_scenarios()
spec = yaml.safe_load(open(paths["bertable_16qam"]))
spec["snr"] = {{"convention": "esno", "values": [4.0, 8.0]}}
results = linksim.load_scenario(spec).run(out="bertable.h5", quiet=True, figures=False)
for point in results.curve("qam16").points:
    s = point.stats["ber"]
    exact = float(ber_awgn("qam16", point.snr_db, "esno"))
    assert abs(s["errors"] / s["trials"] - exact) < 4 * (exact / s["trials"]) ** 0.5, (point.snr_db, s, exact)
print("bertable ok")
"""


def test_the_wheel_installs_and_runs_shipped_scenarios_by_name_from_any_folder(tmp_path):
    source = tmp_path / "source"
    source.mkdir()
    for name in SOURCES:
        copy = shutil.copytree if (ROOT / name).is_dir() else shutil.copy
        copy(ROOT / name, source / name, **({"ignore": shutil.ignore_patterns("__pycache__")} if (ROOT / name).is_dir() else {}))
    wheels = tmp_path / "wheels"
    built = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", str(wheels), str(source)],
                           capture_output=True, text=True, timeout=600)
    assert built.returncode == 0, built.stderr[-3000:]
    wheel = next(wheels.glob("linksim-*.whl"))

    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=300)
    python = venv / "bin" / "python"
    site = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                          capture_output=True, text=True, check=True).stdout.strip()
    # The dependencies come from this environment (a path entry, not its .pth files: no editable linksim).
    pathlib.Path(site, "dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    installed = subprocess.run([str(python), "-m", "pip", "install", "--no-deps", "--quiet", str(wheel)], capture_output=True, text=True,
                               timeout=600)
    assert installed.returncode == 0, installed.stderr[-3000:]

    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    linksim = [str(venv / "bin" / "linksim")]
    listed = subprocess.run(linksim + ["list", "scenarios"], capture_output=True, text=True, cwd=elsewhere, env=env, timeout=300)
    assert listed.returncode == 0, listed.stderr[-2000:]
    assert {"quickstart", "bertable_16qam", "ber_awgn"} <= {line.split()[0] for line in listed.stdout.splitlines()}
    validated = subprocess.run(linksim + ["validate", "quickstart"], capture_output=True, text=True, cwd=elsewhere, env=env, timeout=300)
    assert validated.returncode == 0 and "scenario 'quickstart', 3 curve(s)" in validated.stdout, validated.stderr[-2000:]
    assert site in validated.stdout  # the installed package data, not the clone's file
    ran = subprocess.run([str(python), "-c", RUN_SHIPPED.format(site=site)], capture_output=True, text=True, cwd=elsewhere, env=env,
                         timeout=600)
    assert ran.returncode == 0 and "bertable ok" in ran.stdout, ran.stderr[-3000:]
    quickstart = subprocess.run(linksim + ["run", "quickstart", "--curves", "learned-16qam", "--quiet"], capture_output=True,
                                text=True, cwd=elsewhere, env=env, timeout=600)
    assert quickstart.returncode == 0, quickstart.stderr[-3000:]  # the shipped weights: nothing trains
    assert (elsewhere / "results" / "quickstart.h5").is_file() and (elsewhere / "results" / "quickstart.csv").is_file()
    assert not (elsewhere / "checkpoints").exists()
