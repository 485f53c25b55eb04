"""A scenario's training on a local Ray instance against local sequential training, back to back.

Runs ``linksim train S --backend ray`` (every job a Ray task, 1 CPU each, so as many jobs at once as
the machine has cores) into one fresh checkpoint folder, then plain ``linksim train S`` (jobs one
after another, TensorFlow on every core) into another, on the same machine. For each: the wall time
and the machine's CPU utilisation over the run (busy time of all cores from ``/proc/stat``, so run it
on an otherwise idle machine). Then the two checkpoint trees: the same configuration hashes (folder
names), and per job the final loss and the largest loss difference over its epochs. The two runs
use different TensorFlow thread counts (1 per Ray job, every core locally), so their float sums may
round differently; at equal thread counts they are equal bit for bit
(``tests/test_ray_training.py``).

    python benchmarks/training_backends.py scenarios/amp_sc_headline.yaml   # about 2 hours on 2 cores
"""
import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


def cpu_busy_and_total() -> tuple[int, int]:
    """Jiffies of all cores: (busy, total) from the first line of ``/proc/stat``."""
    with open("/proc/stat") as f:
        fields = [int(x) for x in f.readline().split()[1:]]
    idle = fields[3] + fields[4]  # idle + iowait
    return sum(fields) - idle, sum(fields)


def timed(command: list[str]) -> tuple[float, float]:
    """Run ``command``; returns (wall seconds, mean CPU utilisation of the machine in [0, 1])."""
    busy0, total0 = cpu_busy_and_total()
    start = time.perf_counter()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
    wall = time.perf_counter() - start
    busy1, total1 = cpu_busy_and_total()
    return wall, (busy1 - busy0) / max(1, total1 - total0)


def losses_by_job(root: str) -> dict:
    """Checkpoint folder (relative to ``root``) → its epoch losses, for every complete checkpoint."""
    found = {}
    for folder, _, files in os.walk(root):
        if os.path.basename(folder) == "current" and "state.json" in files:
            with open(os.path.join(folder, "state.json")) as f:
                state = json.load(f)
            if state.get("complete"):
                found[os.path.relpath(os.path.dirname(folder), root)] = [row[3] for row in state["losses"]]
    return found


def load_average() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("scenario")
    parser.add_argument("--workdir", default=None, help="where the two checkpoint trees go (default: a temporary folder)")
    args = parser.parse_args()
    workdir = args.workdir or tempfile.mkdtemp(prefix="training_backends_")
    linksim = [sys.executable, "-m", "linksim.cli", "train", args.scenario]
    print(f"# {platform.processor() or platform.machine()}, {os.cpu_count()} cores; load before {load_average()}")
    runs = {}
    for name, extra in (("ray", ["--backend", "ray", "--cpus-per-job", "1"]), ("local", [])):
        root = os.path.join(workdir, name)
        runs[name] = timed(linksim + ["--checkpoints", root, *extra])
        print(f"{name:>6}: {runs[name][0] / 60:7.1f} min wall, CPU utilisation {runs[name][1]:.0%} of {os.cpu_count()} cores; "
              f"load after {load_average()}", flush=True)
    print(f"# local / ray wall time: {runs['local'][0] / runs['ray'][0]:.2f}×")
    ray, local = losses_by_job(os.path.join(workdir, "ray")), losses_by_job(os.path.join(workdir, "local"))
    print(f"# checkpoints: {len(ray)} (ray), {len(local)} (local); same configuration hashes: {sorted(ray) == sorted(local)}")
    identical = 0
    for job in sorted(set(ray) & set(local)):
        a, b = ray[job], local[job]
        same = a == b
        identical += same
        spread = max(abs(x - y) for x, y in zip(a, b)) if len(a) == len(b) else float("nan")
        print(f"  {job}: final loss {a[-1]:.6g} (ray) {b[-1]:.6g} (local); "
              + ("identical" if same else f"largest epoch-loss difference {spread:.3g}"))
    print(f"# losses identical bit for bit in {identical} of {len(set(ray) & set(local))} jobs")


if __name__ == "__main__":
    main()
