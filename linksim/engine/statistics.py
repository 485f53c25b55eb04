"""Point counts and what tables and figures compute from them: summaries with intervals, the
SNR convention labels and closed-form BER references. Presentation code depends on this module,
never on the Monte Carlo runner."""
from dataclasses import dataclass, field

from linksim.phy.intervals import binomial_interval, mean_interval

__all__ = ["PointResult", "MetricSummary", "summarize", "point_summary", "rate_errors", "CONVENTION_LABELS",
           "POWER_METRIC", "POWER_AXES", "power_axis", "describe_power", "describe_overhead", "effective_snr", "closed_form_ber"]

CONVENTION_LABELS = {"esno": "Es/N0", "ebno": "Eb/N0", "snr": "SNR"}
POWER_METRIC = "tx_power"  # the measured mean power of a noise channel's input, which the engine adds to every curve


@dataclass
class PointResult:
    """Counts of one SNR point of one curve (finished, or in progress when resuming). A point read
    from a results CSV has no counts: ``summaries`` holds its metrics' values and intervals as
    written, ``samples`` is 0 and ``seconds`` nan (unknown), ``stop_reason`` empty."""

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
    constant_taps: list = field(default_factory=list)  # taps constant over the whole point
    summaries: dict = field(default_factory=dict)  # metric name -> MetricSummary, where the counts are not at hand


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


def point_summary(point: PointResult, name: str, kind: str, confidence: float, interval: str) -> MetricSummary:
    """Value and interval of metric ``name`` at ``point``: from its counts, or as read (``point.summaries``)."""
    if name in point.summaries:
        return point.summaries[name]
    return summarize(kind, point.stats[name], confidence, interval)


def rate_errors(point: PointResult, name: str) -> int:
    """The error count of rate metric ``name`` at ``point`` (from a read summary: value × trials, rounded)."""
    if name in point.summaries:
        s = point.summaries[name]
        return round(s.value * s.count) if s.count else 0
    return int(point.stats[name]["errors"])


def effective_snr(snr_db: float, power: MetricSummary, signal_power: float) -> MetricSummary:
    """The SNR a point really had, in dB: its nominal SNR shifted by the measured channel-input power
    over the power its noise refers to (``power``: the ``tx_power`` summary), with the power's interval
    carried over (nan where the interval reaches 0)."""
    import math

    def db(p):
        return snr_db + 10 * math.log10(p / signal_power) if p > 0 else float("nan")

    return MetricSummary(db(power.value), db(power.low), db(power.high), power.count)


POWER_AXES = {"declared": "declared signal power, checked", "measured": "signal power measured on the training split",
              "nominal": "nominal axis: noise as for power 1, not the measured power"}


def power_axis(curve) -> str:
    """What a scenario curve's SNR axis refers to: ``declared``, ``measured`` or ``nominal`` (``""``
    for a curve without a noise channel)."""
    if not curve.noise_channels():
        return ""
    return curve.signal_power if isinstance(curve.signal_power, str) else "declared"


def describe_power(signal_power, axis: str) -> str:
    """``"; signal power P, <what the axis means>"`` for table headers (``""`` without a noise channel)."""
    return f"; signal power {signal_power:.4g}, {POWER_AXES[axis]}" if axis else ""


def describe_overhead(energy_overhead: float, convention: str) -> str:
    """``"; Eb/N0 counts …"`` for table headers of an ``ebno`` link whose stages send energy beyond the data symbols."""
    if convention != "ebno" or energy_overhead == 1:
        return ""
    return f"; Eb/N0 counts the pilots' and cyclic prefix's energy (×{energy_overhead:.4g} per data symbol, Sionna's ebnodb2no)"


def closed_form_ber(theory: dict | None, convention: str):
    """``snr_db -> exact BER`` (scalar or array) of an ``awgn_ber`` or ``rayleigh_ber`` reference, else None.
    A ``tabulated`` reference (``snr_db``, ``ber``: its values at the points, as a CSV gives them)
    interpolates in log10 between them.

    ``theory`` is the curve's reference as a dict (as results files store it, with the curve's
    ``energy_overhead`` when its stages send energy beyond the data symbols: at a given Eb/N0 the
    data symbols then get ``overhead`` times less of it).
    """
    if theory is not None and theory["type"] == "tabulated":  # read from a CSV: the values at the points
        import numpy as np

        xs, ys = np.asarray(theory["snr_db"], float), np.log10(np.maximum(np.asarray(theory["ber"], float), 1e-300))
        return lambda snr_db: 10.0 ** np.interp(snr_db, xs, ys)
    if theory is None or convention not in ("esno", "ebno"):
        return None
    import math

    from linksim.phy.ber_theory import ber_awgn, ber_rayleigh

    ber = ber_rayleigh if theory["type"] == "rayleigh_ber" else ber_awgn
    shift = 10 * math.log10(theory.get("energy_overhead", 1.0)) if convention == "ebno" else 0.0
    return lambda snr_db: ber(theory["modulation"], snr_db - shift, convention, theory["labelling"])
