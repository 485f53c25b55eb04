"""Ray backend for training: every training job — a (curve, replicate, SNR point) — is a Ray task.

A job's task gets the tasks of the jobs it starts from (``init_from``) as arguments, so Ray starts
it when they have finished (no polling), and as many jobs run at once as the cluster's resources
allow: each task asks for its curve's ``training.resources`` (or the command line's), runs in a
worker process of its own (``max_calls=1``: the process, and the GPU memory it holds, ends with the
job) with TensorFlow limited to the job's CPUs and GPU memory growth on (fractional GPUs share a
device). The task rebuilds the scenario from its resolved text (never a pickled TensorFlow object)
and runs :func:`linksim.run.training.train_job`, the function the local run calls: its seeds depend
on (seed, curve, replicate, point) alone, so a job's weights and losses do not depend on the backend.

Faults: a task whose worker dies (killed, out of memory, node lost) is retried by Ray
(``max_retries``) and resumes from the job's last saved epoch; a job that fails on bad input ends
the run with the local run's one-line error; the jobs that finished keep their checkpoints. On a
cluster the checkpoint folder must be shared by every node (NFS or similar).
"""
import os
import time

from linksim.engine.errors import InputError

__all__ = ["train_on_ray", "JOB_RETRIES"]

JOB_RETRIES = 3  # retries of a job whose worker died; each resumes from the job's last saved epoch


def _label(scenario, key) -> str:
    curve_index, replicate, point = key
    name = scenario.curves[curve_index].replicate_names()[replicate]
    return name + ("" if point is None else f" @ {point:g} dB")


def _train_task(resolved_yaml, key, root, cpus, gpus, events, *sources):
    """Ray task body: train job ``key`` in this worker process; returns a summary dict. ``sources``:
    the summaries of the jobs it starts from (their finishing is what Ray waited for)."""
    failed = next((s for s in sources if "error" in s), None)
    if failed is not None:
        return {"error": failed["error"], "skipped": True}
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import tensorflow as tf
    import yaml

    threads = max(1, int(cpus))
    tf.config.threading.set_intra_op_parallelism_threads(threads)
    tf.config.threading.set_inter_op_parallelism_threads(threads)
    for device in tf.config.list_physical_devices("GPU") if gpus else []:
        tf.config.experimental.set_memory_growth(device, True)
    from linksim.run.training import train_job
    from linksim.scenario import parse_scenario

    # Not events.put: it waits on the queue actor with ray.get, and a task blocked in ray.get lends its
    # CPUs back to Ray, which then starts one more job than the CPUs allow.
    events.actor.put_nowait.remote(("start", key, os.getpid()))
    start = time.perf_counter()
    try:
        scenario = parse_scenario(yaml.safe_load(resolved_yaml), "<resolved scenario>")
        state = train_job(scenario, *key, root=root)
    except InputError as exc:
        return {"error": str(exc)}
    losses = state.get("losses") or []  # rows [stage, round, epoch, loss]; none for an init_from-only job
    return {"epochs": len(losses), "seconds": time.perf_counter() - start, "loss": losses[-1][3] if losses else None}


def train_on_ray(scenario, resolved_yaml: str, curve_indices, root="checkpoints", progress=None, retrain=False,
                 address: str | None = None, resources: dict | None = None) -> None:
    """Train the jobs of :func:`linksim.run.training.train_curves` as Ray tasks.

    Parameters
    ----------
    scenario : linksim.scenario.Scenario
    resolved_yaml : str
        The resolved scenario text the tasks rebuild it from.
    curve_indices, root, progress, retrain
        As for :func:`linksim.run.training.train_curves`.
    address : str or None
        A running cluster (``ray start --head`` prints it); ``None`` starts a local Ray instance.
    resources : dict or None
        ``{"cpus": c, "gpus": g}`` per job, overriding the curves' ``training.resources``.
    """
    try:
        import ray
        from ray.util.queue import Empty, Queue
    except ImportError:
        raise InputError("--backend ray needs Ray: pip install -e '.[ray]'") from None
    from linksim.run.ray_executor import start_ray
    from linksim.run.training import _jobs, announce_plan, announce_shipped, job_dependencies

    root = os.path.abspath(root)
    jobs = _jobs(scenario, curve_indices, root, retrain)
    announce_plan(scenario, jobs, root, progress)
    for curve_index, replicate, _, shipped in jobs:
        if shipped:
            announce_shipped(scenario.curves[curve_index], replicate, shipped, progress)
    deps = job_dependencies(scenario, jobs)
    todo = [(c, r, p) for c, r, p, shipped in jobs if not shipped]
    if not todo:
        return
    started = start_ray(address)
    try:
        events = Queue()
        refs, keys_of = {}, {}
        task = ray.remote(max_calls=1, max_retries=JOB_RETRIES)(_train_task)  # resources per job below
        for key in todo:  # sources come first in _jobs' order
            declared = scenario.curves[key[0]].training.resources
            wanted = {"cpus": declared.cpus if declared else 1, "gpus": declared.gpus if declared else 0, **(resources or {})}
            ref = task.options(num_cpus=wanted["cpus"], num_gpus=wanted["gpus"]).remote(resolved_yaml, key, root, wanted["cpus"], wanted["gpus"], events, *[refs[d] for d in deps[key]])
            refs[key], keys_of[ref] = ref, key
        _follow(ray, scenario, refs, keys_of, events, Empty, progress)
    finally:
        if started:
            ray.shutdown()


def _follow(ray, scenario, refs, keys_of, events, empty, progress) -> None:
    """Wait for every task, printing a line per job start and end and a summary after each end;
    raise the first job error (the local run's one-line message)."""
    pending, running, starts, done = list(refs.values()), set(), set(), 0

    def line(text):
        if progress is not None:
            progress.line(text)

    def drain():
        while True:
            try:
                kind, key, pid = events.get_nowait()
            except empty:
                return
            again = key in starts
            starts.add(key)
            running.add(key)
            line(f"# ray: {'restarted' if again else 'started'} {_label(scenario, key)} (worker process {pid})")

    error = None
    while pending:
        finished, pending = ray.wait(pending, num_returns=1, timeout=1.0)
        drain()
        for ref in finished:
            key = keys_of[ref]
            running.discard(key)
            result = ray.get(ref)
            done += 1
            if "error" in result:
                error = error or result["error"]
                line(f"# ray: {_label(scenario, key)} {'skipped: a job it starts from failed' if result.get('skipped') else 'failed'}")
                continue
            loss = "" if result["loss"] is None else f", final loss {result['loss']:.5f}"
            line(f"# ray: finished {_label(scenario, key)}: {result['epochs']} epochs in {result['seconds']:.0f} s{loss}")
            line(f"# ray: jobs done {done}, running {len(running)}, waiting {len(pending) - len(running)}")
    if error is not None:
        raise InputError(error)
