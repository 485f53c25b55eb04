"""Monte Carlo SNR sweeps: per-point stopping rules, reproducible seeds, resumable state.

For every curve and SNR point the runner adds up chunks of ``batch_size`` blocks until the
primary error metric reaches ``target_errors``, the block-error metric reaches
``target_block_errors``, ``max_samples`` blocks were run, or ``max_seconds`` passed. Chunk
``k`` of point ``p`` of curve ``c`` uses ``stateless_seed(seed, c, p, k)`` and chunks are
added strictly in order, so the counts depend on the scenario and seed alone — not on the
backend (local or Ray), the number of workers, or an interruption and ``--resume`` (except for
``max_seconds``, which depends on the machine). A point may overshoot ``max_samples`` by less
than one batch. With ``stop_after_error_free`` a curve ends after its first point without a
primary error (as Sionna's ``sim_ber``); the closed form, where one exists, covers the rest.

Every chunk also reports, per tap, whether all values were finite and whether the tap was
constant: a NaN/Inf stops the run with an error naming the stage and SNR, and a tap that was
constant over a whole point is recorded and reported as suspicious.
"""
import time
from dataclasses import dataclass

from linksim.engine.errors import LinksimError
from linksim.engine.statistics import CONVENTION_LABELS, PointResult, closed_form_ber, describe_overhead, describe_power, power_axis
from linksim.phy.seeding import stateless_seed
from linksim.run.power import calibrate_signal_power, check_declared_power

__all__ = ["NumericalError", "ChunkRunner", "LocalExecutor", "run_point", "run_scenario"]


class NumericalError(LinksimError):
    """A stage produced NaN or Inf."""


# ---------------------------------------------------------------------------------- one chunk
def _tap_checks(taps):
    """Per tap: (all finite, constant) as scalar booleans, computed inside the graph.

    Two reductions of each real part, its maximum and minimum, with NaN counted as +Inf (under XLA
    ``reduce_max`` drops NaN; the replacement fuses into the reduction there): all values are finite
    iff both extremes are, and the tap is constant iff they are equal. A complex tap is constant
    when its real and imaginary parts both are.
    """
    import tensorflow as tf

    checks = {}
    for name, x in taps.items():
        if name in ("output", "valid") or ":" in name:
            continue  # the last stage's tap again; the data source's row mask; a stage's statistic
        finite = tf.constant(True)
        constant = tf.constant(True)
        for part in [tf.math.real(x), tf.math.imag(x)] if x.dtype.is_complex else [x]:
            floating = part.dtype.is_floating
            if floating:
                part = tf.where(tf.math.is_nan(part), tf.constant(float("inf"), part.dtype), part)
            high, low = tf.reduce_max(part), tf.reduce_min(part)
            if floating:
                finite = tf.logical_and(finite, tf.logical_and(tf.math.is_finite(high), tf.math.is_finite(low)))
            constant = tf.logical_and(constant, tf.equal(high, low))
        checks[name] = (finite, constant)
    return checks


@dataclass
class CurveRuntime:
    """One curve ready to run: its link (holding its trained weights), metrics and compiled step."""

    link: object
    metrics: list
    step: object
    stage_of_tap: dict  # tap -> registered stage type
    errors_metric: str | None  # the rate that target_errors and stop_after_error_free count
    block_metric: str | None  # the rate that target_block_errors counts


def _stopping_metrics(metrics) -> tuple[str | None, str | None]:
    """The metrics whose errors stop a point: as each metric declares (``Metric.stops``); a curve
    without an ``errors`` metric counts its first rate."""
    rates = [m for m in metrics if m.kind == "rate"]
    errors = next((m.name for m in rates if m.stops == "errors"), rates[0].name if rates else None)
    blocks = next((m.name for m in rates if m.stops == "block_errors"), None)
    return errors, blocks


class ChunkRunner:
    """Builds each curve's link once and computes the statistics of single chunks.

    The same object runs in-process (local backend) and inside every Ray worker. It only runs:
    learned weights come ready from ``weights`` (finished checkpoints, see
    :func:`linksim.run.training.train_curves`). Building a curve calibrates ``signal_power:
    measured`` and checks a declared one against the measured channel-input power
    (:mod:`linksim.run.power`), so a wrong claim stops the run before anything is written.

    Parameters
    ----------
    scenario : linksim.scenario.Scenario
    weights : linksim.run.training.CurveWeights
    """

    def __init__(self, scenario, weights):
        self.scenario = scenario
        self.weights = weights
        self._curves = {}

    def _training_power(self, curve_index, link, replicate) -> float:
        """The channel-input power over the training split with the weights ``link`` holds; measured
        through a twin link built for training samples where ``link`` carries other ones (whole test
        images, training crops)."""
        from linksim.scenario import build_curve, carried_shape

        curve = self.scenario.curves[curve_index]
        if carried_shape(self.scenario, curve, training=True) == link.sample_shape:
            return calibrate_signal_power(self.scenario, curve, link)
        twin, _ = build_curve(self.scenario, curve, training=True)
        self.weights.load(curve_index, twin, replicate)
        return calibrate_signal_power(self.scenario, curve, twin)

    def curve(self, curve_index: int, replicate: int = 0) -> CurveRuntime:
        """Curve ``curve_index`` (its replicate ``replicate``) built, holding its trained weights, with its
        step compiled (once)."""
        if (curve_index, replicate) not in self._curves:
            import tensorflow as tf

            from linksim.run.training import seeded_build

            curve = self.scenario.curves[curve_index]
            link, metrics = seeded_build(self.scenario, curve_index, replicate)  # seeded: 'weights: random' repeats too
            self.weights.load(curve_index, link, replicate)
            if curve.signal_power == "measured":
                link.signal_power = self._training_power(curve_index, link, replicate)
            self.weights.select(curve_index, link, float(self.scenario.snr.points()[0]), replicate)
            check_declared_power(self.scenario, curve_index, link)
            batch_size = self.scenario.montecarlo.batch_size
            max_samples = self.scenario.montecarlo.max_samples

            def step(no, snr_db, seed, point_values, chunk):
                taps = link(batch_size, no, snr_db, seed, point_values, chunk=chunk, max_samples=max_samples)
                stats = {(m.name, k): v for m in metrics for k, v in m.update(taps).items()}
                return stats, _tap_checks(taps)

            execution = self.scenario.montecarlo.execution
            if execution != "eager":  # xla where every stage compiles; a curve with NumPy stages runs as a graph
                xla = execution == "xla" and all(s.xla_compatible for s in [curve.source, *curve.stages, *curve.metrics])
                step = tf.function(step, jit_compile=xla)
            self._curves[(curve_index, replicate)] = CurveRuntime(
                link, metrics, step, {s.tap: s.name for s in [link.source] + link.stages}, *_stopping_metrics(metrics))
        return self._curves[(curve_index, replicate)]

    def link_at(self, curve_index: int, snr_db: float, replicate: int = 0):
        """Curve ``curve_index``'s link (replicate ``replicate``), holding the weights for ``snr_db`` (``per_point`` curves)."""
        runtime = self.curve(curve_index, replicate)
        self.weights.select(curve_index, runtime.link, snr_db, replicate)
        return runtime.link

    def run(self, curve_index: int, point_index: int, chunk_index: int, snr_db: float, replicate: int = 0):
        """Chunk ``chunk_index`` of point ``point_index`` (at ``snr_db``) of curve ``curve_index``'s
        replicate ``replicate``. Every replicate draws the same data and noise (the seed is keyed by
        curve, point and chunk), so replicates differ by their training alone.

        Output
        ------
        stats : {metric: {stat: int or float}}
        checks : {tap: (finite, constant)} of Python bools
        """
        import tensorflow as tf

        runtime = self.curve(curve_index, replicate)
        link = self.link_at(curve_index, snr_db, replicate)
        stats, checks = runtime.step(
            tf.constant(link.noise_variance(snr_db), tf.float32), tf.constant(snr_db, tf.float32),
            tf.constant(stateless_seed(self.scenario.seed, curve_index, point_index, chunk_index), tf.int32),
            tf.constant(link.point_values(snr_db), tf.float32), tf.constant(chunk_index, tf.int32),
        )
        out = {}
        for (metric, stat), value in stats.items():
            out.setdefault(metric, {})[stat] = value.numpy().item()
        return out, {tap: (bool(f), bool(const)) for tap, (f, const) in checks.items()}


class LocalExecutor:
    """Runs the chunks of a point in this process, one after the other (the curves' checkpoints
    under ``checkpoints`` must be finished)."""

    def __init__(self, scenario, checkpoints="checkpoints", shipped=True):
        from linksim.run.training import CurveWeights

        self.runner = ChunkRunner(scenario, CurveWeights(scenario, checkpoints, shipped))

    def chunks(self, curve_index, point_index, snr_db, first_chunk=0, end_chunk=None, replicate=0):
        """Yield ``(stats, checks)`` of chunks ``first_chunk, ..., end_chunk - 1`` in order."""
        chunk_index = first_chunk
        while end_chunk is None or chunk_index < end_chunk:
            yield self.runner.run(curve_index, point_index, chunk_index, snr_db, replicate)
            chunk_index += 1

    def close(self):
        pass


# ---------------------------------------------------------------------------------- the sweep
def _stop_reason(totals, samples, elapsed, settings, runtime):
    if runtime.errors_metric and settings.target_errors and totals[runtime.errors_metric]["errors"] >= settings.target_errors:
        return "target_errors"
    if runtime.block_metric and settings.target_block_errors and totals[runtime.block_metric]["errors"] >= settings.target_block_errors:
        return "target_block_errors"
    if samples >= settings.max_samples:
        return "max_samples"
    if settings.max_seconds and elapsed >= settings.max_seconds:
        return "max_seconds"
    return None


def run_point(executor, runtime, scenario, curve_index, point_index, snr_db, start=None, on_chunk=None, progress=None,
              replicate=0) -> PointResult:
    """Run one point to its stopping rule, continuing from ``start`` (a partial PointResult)."""
    settings = scenario.montecarlo
    curve_name = scenario.curves[curve_index].replicate_names()[replicate]
    kinds = {m.name: m.kind for m in runtime.metrics}
    point = start or PointResult(curve_name, point_index, snr_db, runtime.link.noise_variance(snr_db), 0, 0, 0.0, "running",
                                 {m.name: {s: 0 for s in m.stats} for m in runtime.metrics}, kinds, None)
    constant = set(point.constant_taps) if point.constant_taps is not None else None
    began = time.perf_counter() - point.seconds
    reason = None
    if point.chunks:
        reason = _stop_reason(point.stats, point.samples, point.seconds, settings, runtime)
    end_chunk = -(-settings.max_samples // settings.batch_size)  # max_samples always stops there
    chunks = (executor.chunks(curve_index, point_index, snr_db, first_chunk=point.chunks, end_chunk=end_chunk, replicate=replicate)
              if reason is None else iter(()))
    try:
        for stats, checks in chunks:
            for tap, (finite, _) in checks.items():
                if not finite:
                    raise NumericalError(f"curve {curve_name}, {CONVENTION_LABELS[scenario.snr.convention]} {snr_db:g} dB: stage "
                                         f"'{runtime.stage_of_tap.get(tap, tap)}' (tap '{tap}') produced NaN or Inf in chunk {point.chunks}")
            for metric, values in stats.items():
                for stat, value in values.items():
                    point.stats[metric][stat] += value
            now_constant = {tap for tap, (_, const) in checks.items() if const}
            constant = now_constant if constant is None else constant & now_constant
            point.constant_taps = sorted(constant)
            point.chunks += 1
            point.samples = point.chunks * settings.batch_size
            point.seconds = time.perf_counter() - began
            if progress is not None:
                progress(point.samples, point.stats, point.seconds)
            reason = _stop_reason(point.stats, point.samples, point.seconds, settings, runtime)
            if reason:
                break
            if on_chunk is not None:
                on_chunk(point)
    finally:
        close = getattr(chunks, "close", None)
        if close:
            close()
    point.stop_reason = reason
    point.constant_taps = sorted(constant or [])
    return point


def run_scenario(scenario, executor=None, on_point=None, on_chunk=None, reporter=None, resume=None, curves=None):
    """Run every curve of a validated scenario, or the curves with indices ``curves``.

    Parameters
    ----------
    scenario : linksim.scenario.Scenario
    executor : LocalExecutor or linksim.run.ray_executor.RayExecutor, optional
        Where chunks run (default: this process).
    on_point : callable(PointResult), optional
        Called as soon as a point finishes (the results writer commits it).
    on_chunk : callable(PointResult), optional
        Called after every chunk with the point in progress (for ``--resume``).
    reporter : linksim.output.report.LiveTable, optional
    resume : linksim.output.results.Results, optional
        A previous run of the same scenario: its finished points are kept and its point in
        progress continues from its last committed chunk.
    curves : list[int], optional
        The curves to run (default: all). Seeds stay keyed by a curve's index in the scenario, so
        a curve measures the same whichever others run beside it. A replicated curve runs each
        replicate in turn (results curves ``<name>#r<k>``).

    Output
    ------
    list[PointResult], the finished points of this run including resumed ones.
    """
    executor = executor or LocalExecutor(scenario)
    results = []
    for curve_index, curve in enumerate(scenario.curves):
        if curves is not None and curve_index not in curves:
            continue
        for replicate, name in enumerate(curve.replicate_names()):
            previous = resume.curve(name) if resume else None
            results += _run_curve(executor, scenario, curve_index, replicate, previous, on_point, on_chunk, reporter)
    return results


def _run_curve(executor, scenario, curve_index, replicate, previous, on_point, on_chunk, reporter) -> list:
    """Every point of one replicate of one curve, keeping the finished points of ``previous``."""
    curve = scenario.curves[curve_index]
    runtime = executor.runner.curve(curve_index, replicate)
    snrs = scenario.snr.points()
    finished = {pt.index: pt for pt in previous.points} if previous else {}
    if reporter:
        reporter.start_curve(curve.replicate_names()[replicate], {m.name: m.kind for m in runtime.metrics}, len(snrs),
                             closed_form_ber(curve.theory_reference(), scenario.snr.convention),
                             note=describe_power(runtime.link.signal_power, power_axis(curve))
                             + describe_overhead(runtime.link.energy_overhead, scenario.snr.convention)
                             + ("; UNTRAINED: learned stages with random weights" if curve.weights == "random" else "")
                             + "".join(f"; {text}" for text in curve.counted().values()))
    results = []
    for point_index, snr in enumerate(snrs):
        if point_index in finished:
            point = finished[point_index]
            if reporter:
                reporter.point(point, resumed=True)
        else:
            start = previous.partial if previous and previous.partial and previous.partial.index == point_index else None
            progress = reporter.progress(float(snr)) if reporter else None
            point = run_point(executor, runtime, scenario, curve_index, point_index, float(snr), start, on_chunk, progress, replicate)
            if on_point:
                on_point(point)
            if reporter:
                reporter.point(point)
        results.append(point)
        if reporter and point.constant_taps:
            reporter.note(f"warning: tap(s) {', '.join(point.constant_taps)} constant over the whole point at {snr:g} dB")
        if scenario.montecarlo.stop_after_error_free and runtime.errors_metric and point.stats[runtime.errors_metric]["errors"] == 0:
            if reporter and point_index + 1 < len(snrs):
                reporter.note(f"no {runtime.errors_metric} error at {snr:g} dB: remaining {len(snrs) - point_index - 1} point(s) skipped")
            break
    return results
