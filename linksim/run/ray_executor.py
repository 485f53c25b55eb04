"""Ray backend: the chunks of a point run on a Ray cluster (or a local Ray instance).

Each worker is a Ray actor that rebuilds the links from the resolved scenario text (never a
pickled TensorFlow object; learned weights come from checkpoint files) and computes single
chunks with :class:`linksim.run.montecarlo.ChunkRunner`, limited to one TensorFlow thread per
worker CPU. The driver keeps ``2 × workers`` chunks of the current point in flight and adds
their statistics strictly in chunk order, evaluating the stopping rule after each, exactly as
the local backend does: the counts are identical to a local run. The price of early stopping
across workers is wasted work, not different numbers: when a point stops on its error targets
or time budget, up to ``2 × workers − 1`` chunks already submitted still run and are discarded
(no chunk beyond ``max_samples`` is ever submitted).
"""
import collections
import os

from linksim.engine.errors import InputError

__all__ = ["RayExecutor", "start_ray"]


def start_ray(address: str | None) -> bool:
    """Connect to the Ray cluster at ``address`` or start a local instance (``None``), unless Ray is
    already initialised; ``True`` if this call started it (the caller shuts it down). Ray's own
    start-up warnings (e.g. on token authentication) stay off stderr, whose lines are linksim's;
    a failure to connect is an ``InputError``."""
    import logging

    import ray

    if ray.is_initialized():
        return False
    logger = logging.getLogger("ray")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        ray.init(address=address, include_dashboard=False, log_to_driver=False, configure_logging=False,
                 object_store_memory=None if address else 80 * 1024**2)
    except (ConnectionError, ValueError, RuntimeError) as exc:
        raise InputError(f"cannot connect to Ray at {address!r}: {str(exc).splitlines()[0]}") from None
    finally:
        logger.setLevel(level)
    return True


class _Worker:
    """Ray actor body: one ChunkRunner per process."""

    def __init__(self, resolved_yaml: str, threads: int, checkpoints: str, shipped: bool):
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
        import tensorflow as tf
        import yaml

        from linksim.scenario import parse_scenario

        tf.config.threading.set_intra_op_parallelism_threads(threads)
        tf.config.threading.set_inter_op_parallelism_threads(threads)
        from linksim.run.montecarlo import ChunkRunner
        from linksim.run.training import CurveWeights

        scenario = parse_scenario(yaml.safe_load(resolved_yaml), "<resolved scenario>")
        self.runner = ChunkRunner(scenario, CurveWeights(scenario, checkpoints, shipped))

    def run(self, curve_index, point_index, chunk_index, snr_db, replicate=0):
        return self.runner.run(curve_index, point_index, chunk_index, snr_db, replicate)


class RayExecutor:
    """Spread chunks over Ray workers.

    Parameters
    ----------
    scenario : linksim.scenario.Scenario
    resolved_yaml : str
        The resolved scenario the workers rebuild the links from.
    address : str or None
        Address of a running cluster (``ray start --head`` prints it); ``None`` starts a local
        Ray instance and shuts it down in :meth:`close`.
    workers : int or None
        Number of workers; default: the CPUs Ray reports.
    threads_per_worker : int or None
        TensorFlow threads (and Ray CPUs) of each worker; default: its share of the cluster's
        CPUs, ``max(1, CPUs // workers)``.
    checkpoints : str
        Training checkpoint root: the curves' checkpoints must be finished
        (:func:`linksim.run.training.train_curves`); the workers load them (on a cluster the folder
        must be shared).
    """

    def __init__(self, scenario, resolved_yaml: str, address: str | None = None, workers: int | None = None,
                 threads_per_worker: int | None = None, checkpoints: str = "checkpoints", shipped: bool = True):
        try:
            import ray
        except ImportError:
            raise InputError("--backend ray needs Ray: pip install -e '.[ray]'") from None
        from linksim.run.montecarlo import ChunkRunner
        from linksim.run.training import CurveWeights

        self._ray = ray
        self._started = start_ray(address)
        cpus = int(ray.cluster_resources().get("CPU", 1))
        self.num_workers = workers or cpus
        threads = threads_per_worker or max(1, cpus // self.num_workers)
        actor = ray.remote(num_cpus=min(threads, cpus))(_Worker)
        self._workers = [actor.remote(resolved_yaml, threads, os.path.abspath(checkpoints), shipped) for _ in range(self.num_workers)]
        self._next_worker = 0
        # Driver side: knows the links' metadata (stage names, metrics); runs no chunk.
        self.runner = ChunkRunner(scenario, CurveWeights(scenario, checkpoints, shipped))

    def chunks(self, curve_index, point_index, snr_db, first_chunk=0, end_chunk=None, replicate=0):
        """Yield ``(stats, checks)`` of chunks ``first_chunk, ..., end_chunk - 1`` in order."""
        window = 2 * self.num_workers
        pending = collections.deque()
        chunk_index = first_chunk
        while end_chunk is None or chunk_index < end_chunk or pending:
            while len(pending) < window and (end_chunk is None or chunk_index < end_chunk):
                worker = self._workers[self._next_worker]
                self._next_worker = (self._next_worker + 1) % self.num_workers
                pending.append(worker.run.remote(curve_index, point_index, chunk_index, snr_db, replicate))
                chunk_index += 1
            # Chunks still pending when the caller stops are dropped, not cancelled: cancelling
            # queued actor tasks leaves a gap in the actor's task sequence that stalls it.
            yield self._ray.get(pending.popleft())

    def close(self):
        for worker in self._workers:
            self._ray.kill(worker)
        if self._started:
            self._ray.shutdown()
