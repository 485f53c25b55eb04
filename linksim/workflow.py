"""A scenario's workflow as Python calls: validate, train, run, take a curve's link out, export.

:func:`load_scenario` reads a scenario (a file, a shipped scenario's name, or a dict) into a
:class:`Scenario`, whose methods do what the ``linksim`` commands do — the command line only parses
arguments and prints (:mod:`linksim.cli`)::

    import linksim
    scenario = linksim.load_scenario("quickstart")            # or a path, or a dict
    results = scenario.run(out="results/quickstart.h5")       # train what is untrained, sweep, export
    print(results.table())
    link = scenario.link("learned-16qam")                     # a Sionna Block: link(batch_size, snr_db)

Importing this module imports neither TensorFlow nor the scenario schema (plugins load before the
schema is made, :mod:`linksim.plugins`).
"""
import contextlib
import os
import sys

from linksim.engine.errors import InputError
from linksim.plugins import load_plugins

__all__ = ["Scenario", "load_scenario", "load_model", "shipped_scenarios", "import_tensorflow"]

SHIPPED_SCENARIOS_PACKAGE = "linksim.scenarios"


@contextlib.contextmanager
def quiet_native_stderr():
    """Silence the native log lines TensorFlow/XLA print on import (C-level stderr); ``LINKSIM_DEBUG`` keeps them."""
    if os.environ.get("LINKSIM_DEBUG"):
        yield
        return
    sys.stderr.flush()
    saved = os.dup(2)
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(devnull)
        os.close(saved)


def import_tensorflow():
    """Import TensorFlow and Sionna quietly (their import-time log lines silenced)."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    with quiet_native_stderr():
        import sionna.phy  # noqa: F401
        import tensorflow as tf

        tf.constant(0)  # device initialisation logs too
        tf.get_logger().setLevel("ERROR")  # retracing notes; the real-part warning of complex-cast gradients


def shipped_scenarios() -> dict[str, str]:
    """``{name: path}`` of the scenarios shipped with linksim (in a clone: ``scenarios/``; installed: package data)."""
    from importlib.resources import files

    folder = files(SHIPPED_SCENARIOS_PACKAGE)
    return {entry.name[:-5]: str(entry) for entry in sorted(folder.iterdir(), key=lambda e: e.name) if entry.name.endswith(".yaml")}


def _scenario_file(source) -> str:
    """The file of ``source``: an existing path, else a shipped scenario's name (``quickstart``)."""
    path = os.fspath(source)
    if os.path.exists(path) or os.sep in path or path.endswith((".yaml", ".yml")):
        return path
    shipped = shipped_scenarios()
    if path in shipped:
        return shipped[path]
    raise InputError(f"{path}: no such scenario file, nor a shipped scenario (`linksim list scenarios`: {', '.join(shipped)})")


def load_scenario(source, plugins=(), data_files=True) -> "Scenario":
    """Read and validate a scenario.

    Parameters
    ----------
    source : str, os.PathLike or dict
        A scenario file, the name of a scenario shipped with linksim (``"quickstart"``), or the
        scenario as a dict (what ``yaml.safe_load`` of a file gives).
    plugins : sequence of str
        Modules of your own components to import first (:func:`linksim.load_plugins`).
    data_files : bool
        ``False``: do not look for the dataset's files (a scenario read on a machine without its
        data, for :meth:`Scenario.plan`); anything that reads the data then fails when it does.

    Output
    ------
    Scenario

    Note
    ----
    Raises :class:`linksim.InputError` (one line naming the file, the key and what was expected) for
    anything wrong. Validation imports no TensorFlow, except where a stage check needs a Sionna block
    (a code's limits).
    """
    load_plugins(*plugins)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    from linksim.scenario import loading

    with quiet_native_stderr():
        if isinstance(source, dict):
            return Scenario(loading.parse_scenario(source, "<dict>", data_files), None)
        path = _scenario_file(source)
        return Scenario(loading.load_scenario(path, data_files), path)


class Scenario:
    """A validated scenario and what can be done with it.

    Parameters
    ----------
    spec : linksim.scenario.schema.Scenario
        The validated scenario model (every default filled in).
    path : str or None
        The file it was read from (``None`` for a dict).

    Attributes
    ----------
    name : str
    curves : list[str]
        The curves' names, in order.
    """

    def __init__(self, spec, path=None):
        self.spec, self.path = spec, path
        self.name = spec.name
        self.curves = [c.name for c in spec.curves]

    def __repr__(self):
        return f"Scenario({self.name!r}, curves={self.curves}, path={self.path!r})"

    @property
    def source(self) -> str:
        """The path errors and results files name (``<dict>`` for a scenario given as a dict)."""
        return self.path or "<dict>"

    def summary(self) -> str:
        """One line: the scenario's name, curves and SNR points (what ``linksim validate`` prints)."""
        points = len(self.spec.snr.points())
        return (f"{self.source}: ok — scenario '{self.name}', {len(self.curves)} curve(s), {points} SNR point(s) "
                f"({self.spec.snr.convention})")

    def select(self, curves=None) -> list[int]:
        """Indices of the curves whose names match the shell pattern ``curves`` or one of its
        comma-separated alternatives (all for ``None``); ``InputError`` if none matches."""
        from linksim.output.report import name_matches

        if curves is None:
            return list(range(len(self.curves)))
        chosen = [c for c, name in enumerate(self.curves) if name_matches(name, curves)]
        if not chosen:
            raise InputError(f"--curves {curves!r} matches no curve of {self.source} (have: {', '.join(self.curves)})")
        return chosen

    def _trainable(self, curves) -> list[int]:
        chosen = [c for c in self.select(curves) if self.spec.curves[c].training is not None]
        if not chosen:
            raise InputError(f"{self.source}: no{' chosen' if curves else ''} curve has a 'training' section")
        return chosen

    # ------------------------------------------------------------------------------ training
    def train(self, curves=None, checkpoints="checkpoints", retrain=False, quiet=False, stream=None, backend="local", address=None,
              resources=None) -> None:
        """Train the learned curves (resuming, reusing finished or shipped checkpoints).

        Parameters
        ----------
        curves : str or None
            Shell pattern(s) of the curves to train (comma-separated); the curves they start from
            (``init_from``) are trained too. Default: every curve with a ``training`` section.
        checkpoints : str
            Checkpoint root: ``<checkpoints>/<configuration hash>/``.
        retrain : bool
            Train from scratch where linksim ships trained weights.
        quiet : bool
            Print nothing; else progress goes to ``stream`` (default: standard output).
        backend : ``"local"`` or ``"ray"``
            ``ray``: every job — a (curve, replicate, SNR point) — a Ray task on the cluster at
            ``address`` (default: a local Ray instance), started when the jobs it starts from have
            finished (:mod:`linksim.run.ray_training`); the same weights as a local run.
        resources : dict or None
            ``{"cpus": c, "gpus": g}`` per Ray job, over the curves' ``training.resources``.
        """
        chosen = self._trainable(curves)
        _check_backend(backend, address)
        import_tensorflow()
        self._train(chosen, checkpoints, retrain, None if quiet else stream or sys.stdout, backend, address, resources)

    def _train(self, chosen, checkpoints, retrain, stream, backend="local", address=None, resources=None):
        from linksim.output.training_log import TrainingLog

        if backend == "ray":
            from linksim.run.ray_training import train_on_ray
            from linksim.scenario import resolved_yaml

            with quiet_native_stderr():
                train_on_ray(self.spec, resolved_yaml(self.spec), chosen, checkpoints, TrainingLog(stream), retrain, address, resources)
        else:
            from linksim.run.training import train_curves

            train_curves(self.spec, chosen, checkpoints, TrainingLog(stream), retrain)

    def plan(self, curves=None, checkpoints="checkpoints", retrain=False, workers=(1, 4, 16), epoch_seconds=None) -> list[str]:
        """The training jobs, their dependencies, the critical path and the makespan on each number of
        ``workers``, as text lines (:mod:`linksim.run.training_plan`); trains nothing and reads no data
        (a scenario loaded with ``data_files=False`` will do). ``epoch_seconds``: estimated seconds per
        epoch by curve name (``"*"``: every other curve), used where no epoch time was measured."""
        from linksim.run.training_plan import plan_jobs, plan_lines

        jobs = plan_jobs(self.spec, self._trainable(curves), checkpoints, retrain, epoch_seconds)
        return plan_lines(self.spec, jobs, workers)

    def losses(self, curves=None, checkpoints="checkpoints") -> dict:
        """Each trained curve's epoch-mean training losses, from its checkpoint (or the shipped weights).

        Output
        ------
        dict label → list of rows ``{stage, round, epoch, loss, head}``; the label is the curve's
        results name (``<curve>#r<k>`` for replicates, ``… @ X dB`` for ``per_point`` curves). A curve
        without a checkpoint is left out; ``InputError`` if none of the chosen curves has one.
        """
        from linksim.run.checkpoints import loss_history

        histories = {}
        for c in self._trainable(curves):
            curve = self.spec.curves[c]
            points = [float(p) for p in self.spec.snr.points()] if curve.training.per_point else [None]
            for replicate, name in enumerate(curve.replicate_names()):
                for point in points:
                    rows = loss_history(self.spec, curve, checkpoints, point, replicate)
                    if rows:
                        histories[name if point is None else f"{name} @ {point:g} dB"] = rows
        if not histories:
            raise InputError(f"{self.source}: no training checkpoint with finished epochs under {checkpoints} "
                             "for the chosen curves; run `linksim train` first")
        return histories

    # ------------------------------------------------------------------------------ the sweep
    def results_path(self, out=None, resume=False, force=False) -> str:
        """Where :meth:`run` writes: ``out`` or ``results/<name>.h5``, checked to be writable and to hold
        no other scenario's results (unless ``force``); ``InputError`` otherwise."""
        from linksim.output.paths import output_path

        out = output_path(os.path.join("results", f"{self.name}.h5") if out is None else os.fspath(out), "results")
        if not out.lower().endswith(".h5"):
            raise InputError(f"--out {out}: the results file must end in .h5 (its CSV and figures are written beside it)")
        if os.path.exists(out) and not resume and not force:
            from linksim.output.results import Results

            try:
                previous = Results.load(out).attrs.get("name")
            except InputError:
                previous = None
            if previous != self.name:
                held = f"the results of scenario {previous!r}" if previous else "something else than linksim results"
                raise InputError(f"{out}: holds {held}, not of {self.name!r}; choose another --out or pass --force to overwrite it")
        return out

    def run(self, out=None, curves=None, backend="local", address=None, workers=None, resume=False, force=False, retrain=False,
            checkpoints="checkpoints", quiet=False, stream=None, figures=True, resources=None, wide=False):
        """Train what is untrained, run the Monte Carlo sweep into an HDF5 results file, write its CSV
        and figures: what ``linksim run`` does.

        Parameters
        ----------
        out : str or None
            Results file (``.h5``); default ``results/<scenario name>.h5``.
        curves : str or None
            Shell pattern(s) of the curves to run (the curves they start from are trained, not swept).
        backend : ``"local"`` or ``"ray"``
            Where the training jobs and the chunks run; ``address`` (a Ray cluster) and ``workers``
            (of the sweep) and ``resources`` (per training job, as for :meth:`train`) for Ray.
        resume : bool
            Continue the interrupted run stored in ``out`` (same scenario, seed and ``curves``).
        force : bool
            Overwrite an ``out`` that holds another scenario's results.
        retrain : bool
            Train from scratch where linksim ships trained weights.
        checkpoints : str
            Training checkpoint root.
        quiet : bool
            Print nothing; else the live table and training progress go to ``stream`` (default stdout).
        figures : bool
            Draw the figures beside the results file.
        wide : bool
            A live table with every column (default: at most 100 characters, the key metrics).

        Output
        ------
        linksim.Results, the finished results file (``.path``; ``.figures`` lists the figures drawn and
        ``.csv_path`` the CSV export)
        """
        from linksim.output.results import ResultsLock

        out = self.results_path(out, resume, force)
        _check_backend(backend, address)
        if workers is not None and workers < 1:
            raise InputError(f"--workers must be at least 1, got {workers}")
        chosen = self.select(curves)
        with ResultsLock(out):  # one writer per results file, taken before anything trains or is written
            return self._run(out, chosen, backend, address, workers, resume, retrain, checkpoints, quiet, stream, figures, resources, wide)

    def _run(self, out, chosen, backend, address, workers, resume, retrain, checkpoints, quiet, stream, figures, resources=None, wide=False):
        from linksim.output.results import load_for_resume
        from linksim.scenario import resolved_yaml

        resolved = resolved_yaml(self.spec)
        # Refuse a mismatched or damaged file before anything runs or is written.
        previous = load_for_resume(out, resolved, self.source, self.spec.result_names(chosen)) if resume else None
        stream = None if quiet else stream or sys.stdout
        import_tensorflow()
        self._train(chosen, checkpoints, retrain, stream, backend, address, resources)
        executor = self._executor(chosen, resolved, backend, address, workers, checkpoints, retrain)
        self._sweep(executor, out, chosen, resolved, previous, stream, wide)
        return self._export(executor.runner, out, chosen, figures)

    def _executor(self, chosen, resolved, backend, address, workers, checkpoints, retrain):
        """Where the chunks run, with every chosen curve's link built and holding its weights (so that a
        missing piece fails before the results file is written)."""
        from linksim.run.montecarlo import LocalExecutor

        if backend == "ray":
            from linksim.run.ray_executor import RayExecutor

            with quiet_native_stderr():
                executor = RayExecutor(self.spec, resolved, address=address, workers=workers, checkpoints=checkpoints, shipped=not retrain)
        else:
            executor = LocalExecutor(self.spec, checkpoints, shipped=not retrain)
        try:
            for c in chosen:
                for replicate in range(self.spec.curves[c].replicates):
                    executor.runner.curve(c, replicate)
        except BaseException:
            executor.close()
            raise
        return executor

    def _sweep(self, executor, out, chosen, resolved, previous, stream, wide=False):
        """Run the sweep into the results file ``out``, closed as complete, interrupted or failed."""
        from linksim.output.report import LiveTable
        from linksim.output.results import ResultsWriter
        from linksim.run.montecarlo import run_scenario

        spec = self.spec
        powers = {(c, k): executor.runner.curve(c, k).link.signal_power for c in chosen for k in range(spec.curves[c].replicates)}
        try:
            writer = ResultsWriter(out, spec, os.path.abspath(self.path) if self.path else "<dict>", resolved, previous=previous,
                                   partial_interval=spec.montecarlo.checkpoint_seconds, curves=chosen, powers=powers)
        except BaseException:
            executor.close()
            raise
        mc = spec.montecarlo
        table = LiveTable(spec.snr.convention, mc.confidence, mc.interval, stream=stream, quiet=stream is None, shown=spec.figures.metrics,
                          wide=wide, has_target=bool(mc.target_errors or mc.target_block_errors))
        try:
            run_scenario(spec, executor, on_point=writer.add_point, on_chunk=writer.save_partial, reporter=table, resume=previous,
                         curves=chosen)
        except KeyboardInterrupt:
            writer.close("interrupted")
            raise
        except BaseException as exc:
            writer.close("failed", error=str(exc).splitlines()[0] if str(exc) else type(exc).__name__)
            raise
        finally:
            executor.close()
        writer.close("complete")

    def _export(self, runner, out, chosen, figures):
        """The CSV export and the figures of the finished results file ``out``."""
        from linksim.output.figures import draw_figures
        from linksim.output.results import Results

        results = Results.load(out)
        results.csv_path = results.write_csv()
        results.figures = draw_figures(self.spec, runner, results, out, chosen) if figures else []
        return results

    # ------------------------------------------------------------------------------ a curve's link
    def link(self, curve, replicate=0, point=None, metric=None, batch_size=None, checkpoints="checkpoints", shipped=True, seed=None):
        """Curve ``curve`` as a Sionna ``Block`` holding its trained weights (:class:`linksim.CurveLink`).

        Parameters
        ----------
        curve : str
            The curve's name.
        replicate : int
            Which trained replicate (``training.replicates``).
        point : float or None
            For a ``per_point`` curve: the SNR point (dB) whose weights the block holds.
        metric : str or None
            The metric whose two taps the block returns; default: the curve's error-counting rate
            (its BER), else its first metric.
        batch_size : int or None
            The batch size of calls inside ``sim_ber``'s ``graph``/``xla`` modes, where it arrives as a
            tensor (default: the scenario's ``montecarlo.batch_size``); eager calls take any.
        checkpoints : str
            Checkpoint root (the curve must be trained; weights shipped with linksim count).
        shipped : bool
            Use the weights shipped with linksim where ``checkpoints`` has none.
        seed : int or None
            Seed of the block's own random stream (default: the scenario's).

        Output
        ------
        CurveLink, called as ``link(batch_size, snr_db)`` → ``(sent, received)``
        """
        import_tensorflow()
        from linksim.run.curve_link import CurveLink
        from linksim.run.montecarlo import ChunkRunner
        from linksim.run.training import CurveWeights

        index = self._index(curve)
        spec_curve = self.spec.curves[index]
        if not 0 <= replicate < spec_curve.replicates:
            raise InputError(f"curve {curve!r} has {spec_curve.replicates} replicate(s); replicate {replicate} does not exist")
        per_point = spec_curve.training is not None and spec_curve.training.per_point
        if per_point and point is None:
            raise InputError(f"curve {curve!r} trains one set of weights per SNR point: give point= (one of "
                             f"{', '.join(f'{p:g}' for p in self.spec.snr.points())} dB)")
        runner = ChunkRunner(self.spec, CurveWeights(self.spec, checkpoints, shipped))
        runtime = runner.curve(index, replicate)
        link = runner.link_at(index, float(point), replicate) if per_point else runtime.link
        chosen = _chosen_metric(spec_curve, runtime.errors_metric if metric is None else metric)
        return CurveLink(link, chosen, batch_size or self.spec.montecarlo.batch_size, seed=self.spec.seed if seed is None else seed,
                         name=spec_curve.replicate_names()[replicate])

    def samples(self, split="test"):
        """The dataset's samples of ``split`` (``"test"`` or ``"train"``) as links carry them.

        Output
        ------
        np.ndarray [N, *sample_shape] float32 in the dataset's value range (images: [N, H, W, 3] in [0, 1])
        """
        import numpy as np

        if split not in ("test", "train"):
            raise InputError(f"split must be 'test' or 'train', got {split!r}")
        data = self.spec.data
        return np.asarray(data.load(split, self.spec.seed), np.float32) / np.float32(data.stored_max)

    def _index(self, curve) -> int:
        if curve not in self.curves:
            raise InputError(f"{self.source}: no curve {curve!r} (have: {', '.join(self.curves)})")
        return self.curves.index(curve)

    def export(self, curve, out, replicate=0, checkpoints="checkpoints", shipped=True) -> str:
        """Write curve ``curve``'s learned layers with their trained weights as a Keras 3 ``.keras`` archive
        (:func:`linksim.models.export.export_learned_parts`); returns the path.

        The archive holds a ``keras.Model`` whose layers are the curve's learned stages, by tap name
        (``model.get_layer("latent")`` …), loadable with ``keras.models.load_model`` after ``import
        linksim``. It holds no channel, quantizer, mapper or other non-learned stage. A ``per_point`` curve exports
        the weights of its first SNR point.
        """
        from linksim.output.paths import output_path

        out = output_path(os.fspath(out), "model")
        if not out.endswith(".keras"):
            raise InputError(f"--out {out}: a Keras archive must end in .keras")
        spec_curve = self.spec.curves[self._index(curve)]
        if not any(s.learned for s in spec_curve.stages):
            raise InputError(f"curve {curve!r} has no learned stage; nothing to export")
        block = self.link(curve, replicate=replicate, checkpoints=checkpoints, shipped=shipped,
                          point=float(self.spec.snr.points()[0]) if spec_curve.training and spec_curve.training.per_point else None)
        from linksim.models.export import export_learned_parts

        return export_learned_parts(block.learned_layers(), out, description=f"{self.name}/{block.name}")


def _chosen_metric(curve, name):
    """The scenario metric of ``curve`` named ``name`` (its first metric for ``None``), whose taps a block returns."""
    if name is None:
        return curve.metrics[0]
    by_name = {n: m for m in curve.metrics for n in m.metric_names()}
    if name not in by_name:
        raise InputError(f"curve {curve.name!r} has no metric {name!r} (have: {', '.join(by_name)})")
    return by_name[name]


def load_model(path):
    """Load a ``.keras`` archive written by :meth:`Scenario.export` (``linksim export``), in Keras' safe mode.

    Parameters
    ----------
    path : str
        The archive.

    Output
    ------
    linksim.models.LearnedParts, the curve's learned layers by tap name (``model.parts["latent"]``)
    """
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise InputError(f"{path}: no such model file")
    import_tensorflow()
    import keras

    import linksim.models  # noqa: F401  (registers linksim's layers with Keras)

    return keras.models.load_model(path, safe_mode=True)


def _check_backend(backend, address) -> None:
    if backend not in ("local", "ray"):
        raise InputError(f"backend must be 'local' or 'ray', got {backend!r}")
    if address and backend != "ray":
        raise InputError("--address needs --backend ray")
