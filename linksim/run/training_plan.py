"""The training jobs of a scenario as a graph: durations, dependencies, critical path, and the
makespan on a given number of workers — what ``linksim train --plan`` prints, without training.

A job is a (curve, replicate, SNR point) of :func:`linksim.run.training.train_curves`; it depends on
the jobs it starts from (``init_from``). Its duration is its epochs times its seconds per epoch,
measured by its own checkpoint or a sibling replicate's under the checkpoint root, else the estimate
given for its curve (``epoch_seconds``); where some job has neither, the plan counts in epochs (every
epoch one unit), and says so. The makespan on W workers
is that of greedy list scheduling (a free worker takes the ready job with the longest remaining path
to the end, one job per worker), which is at least the critical path and at least the total work
divided by W.
"""
from dataclasses import dataclass, field

__all__ = ["PlannedJob", "plan_jobs", "critical_path", "makespan", "plan_lines"]


@dataclass
class PlannedJob:
    key: tuple  # (curve, replicate, point)
    label: str
    epochs: int  # epochs left to train (0: finished or shipped)
    seconds_per_epoch: float | None  # measured or estimated, else None
    deps: list = field(default_factory=list)  # keys of the jobs it starts from
    status: str = "train"  # "train", "finished", "shipped"
    timing: str = "measured"  # where seconds_per_epoch comes from: "measured" or "estimated"

    def duration(self, timed: bool) -> float:
        """Seconds (``timed``: every job of the plan has a measured or estimated epoch time) or epochs."""
        return self.epochs * (self.seconds_per_epoch if timed else 1.0)


def plan_jobs(scenario, curve_indices, root="checkpoints", retrain=False, epoch_seconds=None) -> list[PlannedJob]:
    """Every training job of the chosen curves and their sources, in training order. ``epoch_seconds``:
    estimated seconds per epoch by curve name (``"*"``: every other curve), for jobs not measured yet."""
    from linksim.engine.errors import InputError
    from linksim.run.checkpoints import CheckpointStore, checkpoint_path
    from linksim.run.training import _epoch_seconds, _jobs, job_dependencies, schedule_epochs

    jobs = _jobs(scenario, curve_indices, root, retrain)
    deps = job_dependencies(scenario, jobs)
    estimates = dict(epoch_seconds or {})
    unknown = sorted(set(estimates) - {"*"} - {curve.name for curve in scenario.curves})
    if unknown:
        raise InputError(f"epoch seconds: no curve {unknown[0]!r} in {scenario.name} (curves: {', '.join(c.name for c in scenario.curves)})")
    train_size = None
    planned = []
    for curve_index, replicate, point, shipped in jobs:
        curve = scenario.curves[curve_index]
        key = (curve_index, replicate, point)
        label = curve.replicate_names()[replicate] + ("" if point is None else f" @ {point:g} dB")
        state = CheckpointStore(checkpoint_path(scenario, curve, root, point, replicate)).state()
        if shipped or (state is not None and state.get("complete")):
            planned.append(PlannedJob(key, label, 0, None, deps[key], "shipped" if shipped else "finished"))
            continue
        if train_size is None and any(stage.epochs is None for stage in curve.training.stages):
            train_size = scenario.data.train_size(scenario.seed)
        epochs = sum(schedule_epochs(curve, train_size or 1)) - (len(state["losses"]) if state else 0)
        measured = _epoch_seconds(scenario, curve, root, point, replicate, state)
        estimate = estimates.get(curve.name, estimates.get("*"))
        planned.append(PlannedJob(key, label, epochs, measured if measured is not None else estimate, deps[key],
                                  timing="measured" if measured is not None else "estimated"))
    return planned


def _timed(jobs) -> bool:
    return all(job.seconds_per_epoch is not None for job in jobs if job.epochs)


def _children(jobs) -> dict:
    """Per job key: the keys of the jobs that start from it."""
    children = {job.key: [] for job in jobs}
    for job in jobs:
        for dep in job.deps:
            children[dep].append(job.key)
    return children


def _tails(jobs, timed) -> dict:
    """Per job: its duration plus the longest chain of jobs that start from it (its remaining path)."""
    children = _children(jobs)
    by_key = {job.key: job for job in jobs}
    tails = {}

    def tail(key):
        if key not in tails:
            tails[key] = by_key[key].duration(timed) + max((tail(child) for child in children[key]), default=0.0)
        return tails[key]

    for job in jobs:
        tail(job.key)
    return tails


def critical_path(jobs) -> tuple[float, list]:
    """``(length, [job keys])`` of the longest dependency chain (seconds, or epochs where some job has no epoch time)."""
    tails = _tails(jobs, _timed(jobs))
    by_key = {job.key: job for job in jobs}
    children = _children(jobs)
    roots = [job.key for job in jobs if not job.deps]
    if not roots:
        return 0.0, []
    key = max(roots, key=tails.get)
    path = [key]
    while children[key]:
        key = max(children[key], key=tails.get)
        path.append(key)
    return tails[path[0]], [k for k in path if by_key[k].epochs]


def makespan(jobs, workers: int) -> float:
    """Finish time of greedy list scheduling on ``workers`` identical workers (longest remaining path first)."""
    timed = _timed(jobs)
    tails = _tails(jobs, timed)
    finish, free_at, remaining = {}, [0.0] * workers, list(jobs)
    while remaining:
        ready = [job for job in remaining if all(dep in finish for dep in job.deps)]
        job = max(ready, key=lambda j: (tails[j.key], -remaining.index(j)))
        ready_at = max([finish[dep] for dep in job.deps], default=0.0)
        if job.epochs:  # finished and shipped jobs take no worker
            worker = min(range(workers), key=free_at.__getitem__)
            free_at[worker] = max(free_at[worker], ready_at) + job.duration(timed)
            finish[job.key] = free_at[worker]
        else:
            finish[job.key] = ready_at
        remaining.remove(job)
    return max(finish.values(), default=0.0)


def plan_lines(scenario, jobs, workers=(1, 4, 16)) -> list[str]:
    """The plan as text: one line per job (epochs, measured epoch time, what it starts from), the critical
    path and the makespan on each number of ``workers``."""
    timed = _timed(jobs)
    unit = (lambda x: f"{x / 60:.1f} min") if timed else (lambda x: f"{x:.0f} epochs")
    labels = {job.key: job.label for job in jobs}
    kinds = sorted({job.timing for job in jobs if job.epochs and job.seconds_per_epoch is not None})
    lines = [f"# {len(jobs)} training job(s) of {scenario.name}; "
             + (f"durations from {' and '.join(kinds)} epoch times" if timed else
                "no epoch time measured or estimated for every job: durations in epochs (one epoch = one unit)")]
    for job in jobs:
        timing = "" if job.seconds_per_epoch is None else f", {job.seconds_per_epoch:.1f} s/epoch {job.timing}"
        after = f", after {', '.join(labels[d] for d in job.deps)}" if job.deps else ""
        status = job.status if job.status != "train" else f"{job.epochs} epochs{timing}" if job.epochs else "weights copied, no epochs"
        lines.append(f"#   {job.label}: {status}{after}")
    length, path = critical_path(jobs)
    total = sum(job.duration(timed) for job in jobs)
    lines.append(f"# total work {unit(total)}; critical path {unit(length)}: {' → '.join(labels[k] for k in path) or '-'}")
    lines.append("# makespan: " + ", ".join(f"{w} worker{'s' if w > 1 else ''} {unit(makespan(jobs, w))}" for w in workers))
    return lines
