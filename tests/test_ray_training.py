"""Training on Ray: every job a task in dependency order, the same weights and losses as a local run,
a killed worker's job resumed, a failing job's one-line error, and the plan."""
import json
import os
import signal
import subprocess
import sys
import time

import h5py
import numpy as np
import ray  # noqa: F401  (part of the [test] extra: a missing Ray fails here, never skips)

from linksim.cli import main
from linksim.run.training_plan import PlannedJob, critical_path, makespan
from tests.test_training import tiny_learned


def chained(steps=12, epochs=None):
    """A codec (2 replicates) and a curve fine-tuned from it (2 replicates): 4 jobs, 2 chains."""
    spec = tiny_learned(steps=steps)
    codec = spec["curves"][0]
    if epochs is not None:
        del codec["training"]["stages"][0]["steps"]
        codec["training"]["stages"][0]["epochs"] = epochs
    codec["training"]["replicates"] = 2
    tune = {**codec["training"]["stages"][0], "name": "tune", "steps": 6, "epochs": None}
    spec["curves"].append({**codec, "name": "tuned", "training": {"init_from": "codec", "replicates": 2, "stages": [tune]}})
    return spec


def _trained(root) -> dict:
    """{checkpoint folder: (every weight array, the loss history)} under ``root``."""
    out = {}
    for folder, _, files in os.walk(root):
        if "state.json" not in files:
            continue
        with open(os.path.join(folder, "state.json")) as f:
            state = json.load(f)
        arrays = []
        with h5py.File(os.path.join(folder, "learned.weights.h5"), "r") as weights:
            weights.visititems(lambda name, item: arrays.append((name, item[()])) if isinstance(item, h5py.Dataset) else None)
        out[os.path.relpath(folder, root)] = (arrays, state["losses"], state["complete"])
    return out


def _assert_same(a: dict, b: dict):
    assert sorted(a) == sorted(b) and len(a) == 4
    for folder in a:
        (arrays_a, losses_a, complete_a), (arrays_b, losses_b, complete_b) = a[folder], b[folder]
        assert complete_a and complete_b and losses_a == losses_b, folder
        assert [n for n, _ in arrays_a] == [n for n, _ in arrays_b]
        for (name, x), (_, y) in zip(arrays_a, arrays_b):
            assert np.array_equal(x, y), (folder, name)


def _train_locally(path, root, threads: int):
    """``linksim train`` in a process of its own, TensorFlow limited to ``threads`` threads."""
    env = {**os.environ, "TF_NUM_INTRAOP_THREADS": str(threads), "TF_NUM_INTEROP_THREADS": str(threads)}
    done = subprocess.run([sys.executable, "-m", "linksim.cli", "train", path, "--checkpoints", str(root), "--quiet"],
                          env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]


def test_ray_training_equals_local_training_bit_for_bit(write_scenario, tmp_path, capsys):
    """At equal TensorFlow threads (a Ray job has as many as its CPUs; here 1), the weights and losses
    of every job equal the local run's bit for bit."""
    path = write_scenario(chained())
    local, distributed = tmp_path / "local", tmp_path / "ray"
    _train_locally(path, local, threads=1)
    assert main(["train", path, "--checkpoints", str(distributed), "--backend", "ray", "--cpus-per-job", "1"]) == 0
    out = capsys.readouterr().out
    assert out.count("# ray: started") == 4 and out.count("# ray: finished") == 4
    assert "jobs done 4, running 0, waiting 0" in out
    # a fine-tuning job starts only after its codec finished
    lines = out.splitlines()
    for r in (0, 1):
        assert lines.index(next(x for x in lines if x.startswith(f"# ray: finished codec#r{r}"))) < \
            lines.index(next(x for x in lines if x.startswith(f"# ray: started tuned#r{r}")))
    _assert_same(_trained(local), _trained(distributed))


def _saved_losses(state_file) -> list:
    """The losses of a published checkpoint (``current/state.json``); [] while it is being replaced."""
    try:
        with open(state_file) as f:
            return json.load(f)["losses"]
    except (OSError, ValueError):
        return []


def test_a_killed_training_worker_is_retried_and_resumes(write_scenario, tmp_path):
    """SIGKILL the worker of a job after its first saved epoch: Ray retries the task, which resumes
    from the checkpoint; the final weights and losses equal an uninterrupted run's."""
    spec = chained(epochs=4)
    spec["curves"] = spec["curves"][:1]
    spec["curves"][0]["training"]["replicates"] = 1
    path = write_scenario(spec)
    reference, killed = tmp_path / "reference", tmp_path / "killed"
    _train_locally(path, reference, threads=1)
    process = subprocess.Popen([sys.executable, "-m", "linksim.cli", "train", path, "--checkpoints", str(killed), "--backend", "ray"],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    pid = None
    for line in process.stdout:
        if line.startswith("# ray: started"):
            pid = int(line.rsplit("process ", 1)[1].rstrip(")\n"))
            break
    assert pid is not None
    deadline = time.time() + 120
    while time.time() < deadline:  # wait for the first saved epoch, then kill during the second
        if any(_saved_losses(os.path.join(d, "state.json")) for d, _, _ in os.walk(killed) if os.path.basename(d) == "current"):
            break
        time.sleep(0.05)
    os.kill(pid, signal.SIGKILL)
    rest, errors = process.communicate(timeout=300)
    assert process.returncode == 0, errors[-2000:]
    assert "restarted codec" in rest
    a, b = _trained(reference), _trained(killed)
    assert sorted(a) == sorted(b) and len(a) == 1
    folder = next(iter(a))
    assert a[folder][1] == b[folder][1] and all(np.array_equal(x, y) for (_, x), (_, y) in zip(a[folder][0], b[folder][0]))


def test_a_failing_job_ends_the_run_with_the_local_error_and_finished_jobs_keep_their_checkpoints(write_scenario, tmp_path, capsys):
    spec = chained()
    spec["curves"][1]["training"]["stages"][0]["batch_size"] = 60_000  # more than the training samples: fails when it trains
    root = tmp_path / "ckpt"
    assert main(["train", write_scenario(spec), "--checkpoints", str(root), "--backend", "ray"]) == 2
    captured = capsys.readouterr()
    assert captured.err.count("\n") == 1 and "batch_size 60000 exceeds the" in captured.err, captured.err
    finished = _trained(root)
    assert len(finished) == 2 and all(complete for _, _, complete in finished.values())  # both codec replicates


def test_plan_prints_the_jobs_critical_path_and_makespans(write_scenario, capsys):
    assert main(["train", write_scenario(chained()), "--plan"]) == 0
    out = capsys.readouterr().out
    assert "tuned#r1: 1 epochs, after codec#r1" in out
    assert "total work 4 epochs; critical path 2 epochs: codec#r0 → tuned#r0" in out
    assert "makespan: 1 worker 4 epochs, 4 workers 2 epochs, 16 workers 2 epochs" in out


def test_makespan_is_list_scheduling_bounded_by_work_and_critical_path():
    def job(name, epochs, *deps):
        return PlannedJob((name, 0, None), name, epochs, 10.0, [(d, 0, None) for d in deps])

    jobs = [job("a", 3), job("b", 1), job("c", 1), job("d", 2, "a"), job("e", 1, "b")]  # a→d chain of 5 epochs
    assert critical_path(jobs) == (50.0, [("a", 0, None), ("d", 0, None)])
    assert makespan(jobs, 1) == 80.0  # all the work
    assert makespan(jobs, 2) == 50.0  # a, d on one worker; b, e, c on the other
    assert makespan(jobs, 16) == 50.0  # the critical path
    assert makespan([job("a", 0), job("d", 2, "a")], 1) == 20.0  # a finished job takes no time


def test_plan_needs_no_data_files_and_takes_estimated_epoch_times(write_scenario, capsys):
    """A CIFAR-10 scenario plans on a machine without CIFAR-10: steps become epochs of its 50 000
    images; estimated epoch times give minutes, the curve's own estimate before the default."""
    spec = chained(steps=3125 * 4)  # batch 16: 3125 steps per CIFAR-10 epoch → 4 epochs; tune: 6 steps → 1 epoch
    spec["data"] = {"dataset": "cifar10", "path": "no/such/cifar", "patch_size": 32}
    path = write_scenario(spec)
    assert main(["validate", path]) == 2 and "no such folder 'no/such/cifar'" in capsys.readouterr().err  # a run needs the data
    assert main(["train", path, "--plan", "--epoch-seconds", "60", "--epoch-seconds", "tuned=30"]) == 0
    out = capsys.readouterr().out
    assert "durations from estimated epoch times" in out
    assert "codec#r0: 4 epochs, 60.0 s/epoch estimated" in out and "tuned#r1: 1 epochs, 30.0 s/epoch estimated, after codec#r1" in out
    assert "total work 9.0 min; critical path 4.5 min: codec#r0 → tuned#r0" in out
    assert "makespan: 1 worker 9.0 min, 4 workers 4.5 min" in out
    assert main(["train", path, "--plan", "--epoch-seconds", "codex=60"]) == 2
    assert "no curve 'codex'" in capsys.readouterr().err
