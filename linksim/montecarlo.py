"""Monte Carlo SNR sweeps with per-point stopping rules and reproducible seeds.

For every curve and SNR point the runner draws batches (chunks) of ``batch_size`` blocks until
the primary error metric reaches ``target_errors``, the block-error metric reaches
``target_block_errors``, ``max_samples`` blocks were run, or ``max_seconds`` passed. Chunk
``k`` of point ``p`` of curve ``c`` uses ``stateless_seed(seed, c, p, k)``: the numbers depend
on the scenario and seed alone. A point may overshoot ``max_samples`` by less than one batch.
With ``stop_after_error_free`` a curve ends after its first point without a primary error
(as Sionna's ``sim_ber`` early stop); the closed form, where one exists, covers the rest.
"""
import time
from dataclasses import dataclass, field

from phy.intervals import binomial_interval, mean_interval
from phy.seeding import stateless_seed

__all__ = ["PointResult", "MetricSummary", "summarize", "run_scenario"]


@dataclass
class PointResult:
    """Counts of one finished SNR point of one curve."""

    curve: str
    index: int
    snr_db: float
    no: float
    samples: int
    chunks: int
    seconds: float
    stop_reason: str
    stats: dict = field(default_factory=dict)  # metric name -> {stat: number}
    kinds: dict = field(default_factory=dict)  # metric name -> "rate" | "mean"


@dataclass
class MetricSummary:
    value: float
    low: float
    high: float
    count: int


def summarize(kind: str, stats: dict, confidence: float, interval: str) -> MetricSummary:
    """Value and interval of one metric from its counts."""
    if kind == "rate":
        errors, trials = int(stats["errors"]), int(stats["trials"])
        low, high = binomial_interval(errors, trials, confidence, interval)
        return MetricSummary(errors / trials if trials else float("nan"), float(low), float(high), trials)
    mean, low, high = mean_interval(stats["sum"], stats["sum_sq"], stats["count"], confidence)
    return MetricSummary(float(mean), float(low), float(high), int(stats["count"]))


def _make_step(link, metrics, batch_size, execution):
    import tensorflow as tf

    def step(no, snr_db, seed, point_values):
        taps = link(batch_size, no, snr_db, seed, point_values)
        return {(m.name, k): v for m in metrics for k, v in m.update(taps).items()}

    if execution == "eager":
        return step
    return tf.function(step, jit_compile=execution == "xla")


def _primary(metrics):
    """(metric for target_errors, metric for target_block_errors) by name, or None."""
    rates = [m for m in metrics if m.kind == "rate"]
    errors_metric = next((m.name for m in rates if m.name == "ber"), rates[0].name if rates else None)
    block_metric = next((m.name for m in rates if m.name == "bler"), None)
    return errors_metric, block_metric


def _closed_form(curve, convention):
    """``snr_db -> exact BER`` for curves with an ``awgn_ber`` reference, else None."""
    if curve.theory is None or convention not in ("esno", "ebno"):
        return None
    from phy.ber_theory import ber_awgn

    theory = curve.theory
    return lambda snr_db: float(ber_awgn(theory.modulation, snr_db, convention, theory.labelling))


def run_point(step, link, metrics, settings, run_seed, curve_index, point_index, snr_db, progress=None):
    """Run one SNR point to its stopping rule; returns (stats, samples, chunks, seconds, reason)."""
    import tensorflow as tf

    errors_metric, block_metric = _primary(metrics)
    no = link.noise_variance(snr_db)
    args = (tf.constant(no, tf.float32), tf.constant(snr_db, tf.float32))
    point_values = tf.constant(link.point_values(snr_db), tf.float32)
    totals = {m.name: {k: 0 for k in m.stats} for m in metrics}
    samples = chunks = 0
    start = time.perf_counter()
    while True:
        seed = tf.constant(stateless_seed(run_seed, curve_index, point_index, chunks), tf.int32)
        out = step(*args, seed, point_values)
        for (name, stat), value in out.items():
            totals[name][stat] += value.numpy().item()
        samples += settings.batch_size
        chunks += 1
        elapsed = time.perf_counter() - start
        if progress is not None:
            progress(samples, totals, elapsed)
        if errors_metric and settings.target_errors and totals[errors_metric]["errors"] >= settings.target_errors:
            reason = "target_errors"
        elif block_metric and settings.target_block_errors and totals[block_metric]["errors"] >= settings.target_block_errors:
            reason = "target_block_errors"
        elif samples >= settings.max_samples:
            reason = "max_samples"
        elif settings.max_seconds and elapsed >= settings.max_seconds:
            reason = "max_seconds"
        else:
            continue
        return totals, samples, chunks, elapsed, reason


def run_scenario(scenario, on_point=None, reporter=None):
    """Run every curve of a validated scenario.

    Parameters
    ----------
    scenario : linksim.scenario.Scenario
    on_point : callable(PointResult), optional
        Called as soon as a point finishes (the results writer).
    reporter : linksim.report.LiveTable, optional
        Prints the live table.

    Output
    ------
    list[PointResult]
    """
    from linksim.scenario import build_curve

    settings = scenario.montecarlo
    snrs = scenario.snr.points()
    results = []
    for c, curve in enumerate(scenario.curves):
        link, metrics = build_curve(scenario, curve)
        step = _make_step(link, metrics, settings.batch_size, settings.execution)
        kinds = {m.name: m.kind for m in metrics}
        errors_metric, _ = _primary(metrics)
        if reporter:
            reporter.start_curve(curve.name, kinds, len(snrs), _closed_form(curve, scenario.snr.convention))
        for p, snr in enumerate(snrs):
            progress = reporter.progress(float(snr)) if reporter else None
            totals, samples, chunks, seconds, reason = run_point(step, link, metrics, settings, scenario.seed, c, p, float(snr), progress)
            result = PointResult(curve.name, p, float(snr), link.noise_variance(float(snr)), samples, chunks, seconds, reason, totals, kinds)
            results.append(result)
            if on_point:
                on_point(result)
            if reporter:
                reporter.point(result)
            if settings.stop_after_error_free and errors_metric and totals[errors_metric]["errors"] == 0:
                if reporter and p + 1 < len(snrs):
                    reporter.note(f"no {errors_metric} error at {snr:g} dB: remaining {len(snrs) - p - 1} point(s) skipped")
                break
    return results

