"""Tables: the live AFF3CT-style table of a running sweep and the table of a results file."""
import fnmatch
import math
import sys
import time

import numpy as np

from linksim.engine.statistics import CONVENTION_LABELS, MetricSummary, closed_form_ber, describe_power, effective_snr, summarize
from linksim.output.replicates import replicate_groups
from linksim.phy.intervals import mean_interval

__all__ = ["LiveTable", "long_rows", "CSV_HEADER", "format_csv", "format_results", "format_point", "point_effective_snr", "power_note",
           "name_matches", "replicate_summaries", "format_ber_table"]

CSV_HEADER = "curve,snr_db,convention,metric,value,ci_low,ci_high,count"


def name_matches(name: str, pattern: str) -> bool:
    """``name`` matches the shell ``pattern``, or one of several separated by commas (``'codec,baseline-*'``)."""
    return any(fnmatch.fnmatchcase(name, part) for part in pattern.split(","))


def _num(x, width=10):
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "-".rjust(width)
    return f"{x:.3e}".rjust(width)


def _duration(seconds):
    if seconds is None or not math.isfinite(seconds):
        return "-"
    seconds = int(round(seconds))
    h, rest = divmod(seconds, 3600)
    m, s = divmod(rest, 60)
    return f"{h}h{m:02d}m{s:02d}s" if h else f"{m:02d}m{s:02d}s"


def _columns(kinds, confidence):
    cols = []
    for name, kind in kinds.items():
        if kind == "rate":
            cols += [(f"{name} errors", 10), (name.upper() if len(name) <= 4 else name, 10), (f"{int(confidence * 100)}% interval", 21)]
        else:
            cols += [(name, 10), ("±", 10)]
    return cols


def _metric_cells(point, kinds, confidence, interval):
    cells = []
    for name, kind in kinds.items():
        s = summarize(kind, point.stats[name], confidence, interval)
        if kind == "rate":
            cells += [str(int(point.stats[name]["errors"])).rjust(10), _num(s.value), f"[{s.low:.2e}, {s.high:.2e}]".rjust(21)]
        else:
            cells += [_num(s.value), _num((s.high - s.low) / 2)]
    return cells


class LiveTable:
    """Prints one row per finished point, a refreshed progress line on terminals, and notes."""

    def __init__(self, convention, confidence, interval, stream=None, quiet=False, shown=None):
        """``shown``: the metric names to print (default: all)."""
        self.stream = stream or sys.stdout
        self.shown = None if shown is None else set(shown)
        self.quiet = quiet
        self.label = CONVENTION_LABELS[convention]
        self.confidence, self.interval = confidence, interval
        self.tty = hasattr(self.stream, "isatty") and self.stream.isatty()
        self._last_refresh = 0.0

    def _write(self, text):
        if not self.quiet:
            self.stream.write(text)
            self.stream.flush()

    def start_curve(self, name, kinds, num_points, closed_form=None, note=""):
        """``closed_form(snr_db) -> BER`` adds a column with the exact reference value; ``note`` follows the curve's name."""
        if self.shown is not None:
            kinds = {name: kind for name, kind in kinds.items() if name in self.shown}
        self.kinds, self.num_points, self.point_seconds, self.closed_form = kinds, num_points, [], closed_form
        cols = [(self.label + " dB", 8), ("samples", 11)] + _columns(kinds, self.confidence) + [("throughput", 12), ("elapsed", 9), ("ETA", 9)]
        if closed_form:
            cols.insert(2, ("closed form", 11))
        header = " | ".join(title.rjust(width) for title, width in cols)
        rule = "-" * len(header)
        self._write(f"# curve {name} ({self.interval} intervals{note})\n# {rule}\n# {header}\n# {rule}\n")

    def _throughput(self, point):
        if "ber" in point.stats and point.seconds > 0:
            return f"{point.stats['ber']['trials'] / point.seconds / 1e6:7.2f} Mb/s"
        return f"{point.samples / max(point.seconds, 1e-9):7.0f} /s"

    def point(self, point, resumed=False):
        """One row; ``resumed`` rows come from the file being resumed and carry no ETA."""
        self.point_seconds.append(point.seconds)
        remaining = self.num_points - len(self.point_seconds)
        eta = sum(self.point_seconds) / len(self.point_seconds) * remaining
        cells = [f"{point.snr_db:8.2f}", str(point.samples).rjust(11)]
        if self.closed_form:
            cells.append(_num(float(self.closed_form(point.snr_db)), 11))
        cells += _metric_cells(point, self.kinds, self.confidence, self.interval)
        cells += [self._throughput(point).rjust(12), _duration(point.seconds).rjust(9), ("resumed" if resumed else _duration(eta)).rjust(9)]
        self._write(("\r" if self.tty else "") + "  " + " | ".join(cells) + "\n")

    def progress(self, snr_db):
        """A callback ``(samples, totals, elapsed)`` refreshing one line, on terminals only."""

        def update(samples, totals, elapsed):
            now = time.monotonic()
            if self.quiet or not self.tty or now - self._last_refresh < 0.5:
                return
            self._last_refresh = now
            errors = "  ".join(f"{n} errors {int(t['errors'])}" for n, t in totals.items() if "errors" in t)
            self.stream.write(f"\r  {snr_db:8.2f} | {samples:11d} | {errors} | {_duration(elapsed)} ...")
            self.stream.flush()

        return update

    def note(self, text):
        self._write(f"# {text}\n")


def long_rows(results):
    """Rows of the long-format table: dicts with the :data:`CSV_HEADER` fields.

    Rate metrics report ``count`` = trials; mean metrics ``count`` = averaged blocks. Curves
    with a closed-form reference add rows ``<metric>_closed_form`` (no interval, count 0); curves
    with a noise channel add ``effective_snr_db``, the nominal SNR shifted by the measured
    channel-input power (``tx_power``) over the power the noise refers to. A replicated curve has
    rows per replicate (``<curve>#r<k>``, Monte Carlo intervals) and rows under its own name: the
    mean over replicates with the t interval across them (``count`` = replicates).
    """
    confidence, interval = results.attrs["confidence"], results.attrs["interval"]
    rows = []
    for curve in results.curves:
        theory = closed_form_ber(curve.theory, results.convention)
        for point in curve.points:
            for name, kind in curve.metrics.items():
                s = summarize(kind, point.stats[name], confidence, interval)
                rows.append(dict(curve=curve.name, snr_db=point.snr_db, convention=results.convention, metric=name,
                                 value=s.value, ci_low=s.low, ci_high=s.high, count=s.count))
            if theory:
                value = float(theory(point.snr_db))
                rows.append(dict(curve=curve.name, snr_db=point.snr_db, convention=results.convention, metric="ber_closed_form",
                                 value=value, ci_low=float("nan"), ci_high=float("nan"), count=0))
            effective = point_effective_snr(curve, point, confidence, interval)
            if effective is not None:
                rows.append(dict(curve=curve.name, snr_db=point.snr_db, convention=results.convention, metric="effective_snr_db",
                                 value=effective.value, ci_low=effective.low, ci_high=effective.high, count=effective.count))
    for group, (snr_db, values) in _replicate_rows(results):
        for name, summary in values.items():
            rows.append(dict(curve=group, snr_db=snr_db, convention=results.convention, metric=name, value=summary.value,
                             ci_low=summary.low, ci_high=summary.high, count=summary.count))
    return rows


def replicate_summaries(results, members) -> list[tuple[float, dict]]:
    """Per SNR point that every replicate reached: ``(snr_db, {metric: MetricSummary})``, the mean over
    the replicates' values with the Student t interval across them (the training spread; ``count`` is
    the number of replicates)."""
    confidence, interval = results.attrs["confidence"], results.attrs["interval"]
    curves = [results.curve(m) for m in members]
    out = []
    for index in sorted(set.intersection(*({p.index for p in c.points} for c in curves))):
        points = [next(p for p in c.points if p.index == index) for c in curves]
        values = {}
        for name, kind in curves[0].metrics.items():
            estimates = np.array([summarize(kind, p.stats[name], confidence, interval).value for p in points])
            mean, low, high = mean_interval(estimates.sum(), np.square(estimates).sum(), len(estimates), confidence)
            values[name] = MetricSummary(float(mean), float(low), float(high), len(estimates))
        out.append((points[0].snr_db, values))
    return out


def _replicate_rows(results):
    """``(group, (snr_db, {metric: MetricSummary}))`` of every replicated curve, point by point."""
    for group, members in replicate_groups([c.name for c in results.curves]).items():
        if len(members) > 1:
            for entry in replicate_summaries(results, members):
                yield group, entry


def point_effective_snr(curve, point, confidence, interval):
    """The measured effective SNR (dB) of a point of a curve with a noise channel, else ``None``."""
    if curve.power_metric is None or curve.signal_power is None:
        return None
    power = summarize("mean", point.stats[curve.power_metric], confidence, interval)
    return effective_snr(point.snr_db, power, curve.signal_power)


def power_note(curve) -> str:
    """What a results curve's SNR axis means, for table headers ("" for a curve without a noise channel)."""
    return describe_power(curve.signal_power, curve.power_axis)


def format_csv(rows) -> str:
    def f(x):
        return "" if isinstance(x, float) and math.isnan(x) else (f"{x:.6e}" if isinstance(x, float) else str(x))

    lines = [CSV_HEADER]
    for r in rows:
        lines.append(",".join([r["curve"], f"{r['snr_db']:g}", r["convention"], r["metric"], f(r["value"]), f(r["ci_low"]), f(r["ci_high"]), str(r["count"])]))
    return "\n".join(lines) + "\n"


def format_results(results) -> str:
    """Human-readable table of a results file, one block per curve."""
    label = CONVENTION_LABELS[results.convention]
    a = results.attrs
    out = [f"# {a['name']}: seed {a['seed']}, {a['status']}, git {a['git_commit']}, started {a['started_utc']}"]
    for curve in results.curves:
        theory = closed_form_ber(curve.theory, results.convention)
        cols = [(label + " dB", 8), ("samples", 11)] + _columns(curve.metrics, a["confidence"]) + [("seconds", 9), ("stop", 14)]
        if theory:
            cols.insert(2, ("closed form", 11))
        if curve.power_metric and curve.signal_power:
            cols.insert(2, ("effective dB", 12))
        header = " | ".join(t.rjust(w) for t, w in cols)
        untrained = "; UNTRAINED: learned stages with random weights" if curve.random_weights else ""
        counted = "".join(f"; {text}" for text in curve.counted.values())
        out += [f"# curve {curve.name}{power_note(curve)}{untrained}{counted}", "# " + "-" * len(header), "# " + header,
                "# " + "-" * len(header)]
        for p in curve.points:
            cells = [f"{p.snr_db:8.2f}", str(p.samples).rjust(11)]
            effective = point_effective_snr(curve, p, a["confidence"], a["interval"])
            if effective is not None:
                cells.append(f"{effective.value:12.2f}")
            if theory:
                cells.append(_num(float(theory(p.snr_db)), 11))
            cells += _metric_cells(p, curve.metrics, a["confidence"], a["interval"])
            cells += [f"{p.seconds:9.2f}", p.stop_reason.rjust(14)]
            out.append("  " + " | ".join(cells))
    for group, members in replicate_groups([c.name for c in results.curves]).items():
        if len(members) > 1:
            out += _replicate_table(results, group, members, label)
    return "\n".join(out) + "\n"


def _replicate_table(results, group, members, label) -> list[str]:
    """The mean over a curve's replicates with the interval across them (the training spread)."""
    kinds = results.curve(members[0]).metrics
    cols = [(label + " dB", 8)] + [(name, 12) for name in kinds] + [(f"{name} spread", 23) for name in kinds]
    header = " | ".join(t.rjust(w) for t, w in cols)
    out = [f"# curve {group}: mean over {len(members)} replicates; spread = {int(results.attrs['confidence'] * 100)}% Student t "
           "interval across them (the training spread; each replicate's Monte Carlo interval is in its own table)",
           "# " + "-" * len(header), "# " + header, "# " + "-" * len(header)]
    for snr_db, values in replicate_summaries(results, members):
        cells = [f"{snr_db:8.2f}"] + [_num(values[n].value, 12) for n in kinds]
        cells += [f"[{_num(values[n].low, 10)}, {_num(values[n].high, 10)}]" for n in kinds]
        out.append("  " + " | ".join(cells))
    return out


def format_point(results, snr_db: float, metrics: str) -> str:
    """Every curve against the metrics whose names match the shell pattern ``metrics`` (e.g. ``'dice_*'``),
    at the SNR point ``snr_db``: one row per curve that has the point, one column per metric (in the order
    the curves list them), blank where a curve lacks the metric. A paper's per-class table."""
    confidence, interval = results.attrs["confidence"], results.attrs["interval"]
    names, rows = [], {}
    for curve in results.curves:
        point = next((p for p in curve.points if math.isclose(p.snr_db, snr_db)), None)
        if point is None:
            continue
        rows[curve.name] = {}
        for name, kind in curve.metrics.items():
            if name_matches(name, metrics):
                names += [name] if name not in names else []
                rows[curve.name][name] = summarize(kind, point.stats[name], confidence, interval).value
    if not names:
        available = sorted({float(p.snr_db) for c in results.curves for p in c.points})
        raise ValueError(f"no curve has a metric matching {metrics!r} at {snr_db:g} dB (points: {', '.join(f'{x:g}' for x in available)})")
    label = max(12, *(len(n) for n in rows))
    width = {n: max(8, len(n)) for n in names}
    lines = [f"# {metrics} at {CONVENTION_LABELS[results.convention]} = {snr_db:g} dB",
             f"{'curve':<{label}} " + " ".join(f"{n:>{width[n]}}" for n in names)]
    for curve, values in rows.items():
        if values:
            lines.append(f"{curve:<{label}} " + " ".join(f"{values[n]:{width[n]}.4g}" if n in values else " " * width[n] for n in names))
    return "\n".join(lines) + "\n"


def format_ber_table(table, modulation: str, convention: str) -> str:
    """A :class:`linksim.phy.BerTable` as ``linksim bertable`` prints it: one row per SNR point."""
    label = CONVENTION_LABELS[convention]
    lines = [f"# {modulation}, uncoded, hard decisions, AWGN; {label} in dB",
             f"# {label:>7} | {'BER':>10} | {'95% interval':>23} | {'errors':>9} | {'bits':>12} | source"]
    for p in range(len(table.snr_db)):
        r = table.row(p)
        ci = "-" if r["source"] == "closed_form" else f"[{r['ci_low']:.3e}, {r['ci_high']:.3e}]"
        lines.append(f"  {r['snr_db']:7.2f} | {r['ber']:10.3e} | {ci:>23} | {r['bit_errors']:9d} | {r['bits']:12d} | {r['source']}")
    return "\n".join(lines) + "\n"
