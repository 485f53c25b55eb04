"""Tables: the live AFF3CT-style table of a running sweep and the table of a results file."""
import fnmatch
import math
import sys
import time

import numpy as np

from linksim.engine.statistics import (CONVENTION_LABELS, POWER_METRIC, MetricSummary, closed_form_ber, describe_power, effective_snr,
                                       point_summary, rate_errors)
from linksim.output.columns import RATE_WIDTH, Column, comment, fit, mean_cell, mean_format, omitted, rate_cell, render
from linksim.output.replicates import replicate_groups
from linksim.phy.intervals import mean_interval

__all__ = ["LiveTable", "long_rows", "CSV_HEADER", "format_csv", "format_results", "format_point", "point_effective_snr", "power_note",
           "name_matches", "replicate_summaries", "format_ber_table"]

CSV_HEADER = "curve,snr_db,convention,metric,value,ci_low,ci_high,count"


def name_matches(name: str, pattern: str) -> bool:
    """``name`` matches the shell ``pattern``, or one of several separated by commas (``'codec,baseline-*'``)."""
    return any(fnmatch.fnmatchcase(name, part) for part in pattern.split(","))


def _duration(seconds):
    if seconds is None or not math.isfinite(seconds):
        return "-"
    seconds = int(round(seconds))
    h, rest = divmod(seconds, 3600)
    m, s = divmod(rest, 60)
    return f"{h}h{m:02d}m{s:02d}s" if h else f"{m:02d}m{s:02d}s"


CAPS = {"max_seconds": "time cap", "max_samples": "sample cap"}


def stop_flag(reason: str, has_target: bool) -> str:
    """What a point's stop reason says when it is not the configured end: ``time cap`` (``max_seconds``),
    ``sample cap`` (``max_samples`` on a curve that had an error target), else ``""``."""
    if reason == "max_seconds" or (reason == "max_samples" and has_target):
        return CAPS[reason]
    return ""


def _key_metrics(kinds: dict, effective: bool) -> list[str]:
    """The metrics a default table shows: not the ``_min``/``_max`` companions of a shown metric, nor the
    measured power where the effective SNR column shows it."""
    return [m for m in kinds if not (m.endswith(("_min", "_max")) and m[:-4] in kinds) and not (effective and m == POWER_METRIC)]


def _metric_columns(kinds: dict, summaries, errors, slack: int = 0, brackets: bool = True) -> list[Column]:
    """One column per metric (rates: value and, with ``brackets``, its interval; then its error count).
    ``summaries[r]`` is row r's {metric: MetricSummary} and ``errors[r]`` its {rate metric: error count};
    the rows there now fix each column's format and width (``slack`` characters more for rows still to come)."""
    columns = []
    rates = [m for m, kind in kinds.items() if kind == "rate"]
    known = range(len(summaries))
    for name, kind in kinds.items():
        if kind == "rate":
            title = name.upper() if len(name) <= 4 else name
            if brackets:
                columns.append(Column(title, RATE_WIDTH, lambda r, n=name: rate_cell(summaries[r][n].value, summaries[r][n].low, summaries[r][n].high)))
            else:
                columns.append(Column(title, max(8, len(title)), lambda r, n=name: f"{summaries[r][n].value:.2e}"))
            title = "errors" if len(rates) == 1 else f"{name} errors"
            columns.append(Column(title, max([len(title), *(len(str(errors[r][name])) + slack for r in known)]), lambda r, n=name: str(errors[r][n])))
        else:
            spec = mean_format([summaries[r][name].value for r in known], [(summaries[r][name].high - summaries[r][name].low) / 2 for r in known])

            def cell(r, n=name, spec=spec):
                return mean_cell(summaries[r][n].value, (summaries[r][n].high - summaries[r][n].low) / 2, spec)

            columns.append(Column(name, max([len(name), *(len(cell(r)) + slack for r in known)]), cell))
    return columns


class LiveTable:
    """Prints one row per finished point (its columns' formats fixed by the curve's first point), a
    refreshed progress line on terminals, and notes. At most :data:`TABLE_WIDTH` characters wide unless
    ``wide``; a point that stopped on a cap before its error target is flagged."""

    def __init__(self, convention, confidence, interval, stream=None, quiet=False, shown=None, wide=False, has_target=True):
        """``shown``: the metric names to print (default: the key metrics, every one with ``wide``);
        ``has_target``: the sweep stops points on an error count, so a sample cap is flagged."""
        self.stream = stream or sys.stdout
        self.shown = None if shown is None else set(shown)
        self.quiet, self.wide, self.has_target = quiet, wide, has_target
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
        elif not self.wide:
            kinds = {name: kinds[name] for name in _key_metrics(kinds, effective=False)}
        self.kinds, self.num_points, self.point_seconds, self.closed_form = kinds, num_points, [], closed_form
        self.columns = None
        self._write("\n".join(comment(f"curve {name} ({self.interval} intervals{note})")) + "\n")

    def _build_columns(self):
        """The curve's columns, formats from its first row; prints the header. As AFF3CT's: rates without
        their intervals (``linksim table`` has them), samples and seconds per point only with ``wide``;
        a capped point shows its cap where the ETA goes."""
        rows = self._rows
        metric_columns = _metric_columns(self.kinds, _Rows(rows, "summaries"), _Rows(rows, "errors"), slack=1, brackets=self.wide)
        start = [Column(self.label + " dB", 8, lambda r: f"{rows[r]['snr_db']:.2f}")]
        if self.wide:
            start.append(Column("samples", 11, lambda r: str(rows[r]["samples"])))
        if self.closed_form:
            start.append(Column("closed form", 11, lambda r: f"{rows[r]['closed_form']:.2e}"))
        end = [Column("throughput", 10, lambda r: rows[r]["throughput"]), Column("ETA", 10, lambda r: rows[r]["stop"] or rows[r]["eta"])]
        if self.wide:
            end.insert(1, Column("elapsed", 9, lambda r: rows[r]["elapsed"]))
        self.columns, left_out = (start + metric_columns + end, []) if self.wide else fit(start, metric_columns, end)
        header = render(self.columns, [])
        self._write("\n".join([*omitted(left_out), "# " + "-" * (len(header[0]) - 2), *header]) + "\n")

    def _throughput(self, point):
        if "ber" in point.stats and point.seconds > 0:
            return f"{point.stats['ber']['trials'] / point.seconds / 1e6:.2f} Mb/s"
        return f"{point.samples / max(point.seconds, 1e-9):.0f} /s"

    def point(self, point, resumed=False):
        """One row; ``resumed`` rows come from the file being resumed and carry no ETA."""
        self.point_seconds.append(point.seconds)
        remaining = self.num_points - len(self.point_seconds)
        eta = sum(self.point_seconds) / len(self.point_seconds) * remaining
        row = {"snr_db": point.snr_db, "samples": point.samples, "throughput": self._throughput(point),
               "summaries": {n: point_summary(point, n, k, self.confidence, self.interval) for n, k in self.kinds.items()},
               "errors": {n: rate_errors(point, n) for n, k in self.kinds.items() if k == "rate"},
               "elapsed": _duration(point.seconds), "eta": "resumed" if resumed else _duration(eta),
               "stop": stop_flag(point.stop_reason, self.has_target and "rate" in self.kinds.values())}
        if self.closed_form:
            row["closed_form"] = float(self.closed_form(point.snr_db))
        if self.columns is None:
            self._rows = [row]
            self._build_columns()
        else:
            self._rows.append(row)
        line = render(self.columns, [len(self._rows) - 1])[-1]
        self._write(("\r" if self.tty else "") + line + "\n")

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


class _Rows:
    """``rows[r][key]`` as ``view[r]``: the live table's columns read rows added after they were made."""

    def __init__(self, rows, key):
        self.rows, self.key = rows, key

    def __getitem__(self, r):
        return self.rows[r][self.key]

    def __len__(self):
        return len(self.rows)


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
                s = point_summary(point, name, kind, confidence, interval)
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
            estimates = np.array([point_summary(p, name, kind, confidence, interval).value for p in points])
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
    power = point_summary(point, curve.power_metric, "mean", confidence, interval)
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


def _has_target(results) -> bool:
    """Whether the run stopped points on an error count (``target_errors`` or ``target_block_errors``)."""
    import yaml

    try:
        settings = (yaml.safe_load(results.attrs.get("scenario") or "") or {}).get("montecarlo") or {}
    except yaml.YAMLError:
        return False
    return bool(settings.get("target_errors") or settings.get("target_block_errors"))  # the resolved YAML leaves out None


def format_results(results, wide: bool = False) -> str:
    """Human-readable table of a results file, one block per curve: at most
    :data:`~linksim.output.columns.TABLE_WIDTH` characters wide with the key metrics (not the
    ``_min``/``_max`` companions, nor the measured power where the effective SNR shows it), every
    column with ``wide``. A point stopped by a cap before its error target is flagged in ``stop``."""
    label = CONVENTION_LABELS[results.convention]
    a = results.attrs
    has_target = _has_target(results)
    out = comment(f"{a['name']}: seed {a['seed']}, {a['status']}, git {a['git_commit']}, started {a['started_utc']}")
    for curve in results.curves:
        out += _curve_table(results, curve, label, wide, has_target)
    for group, members in replicate_groups([c.name for c in results.curves]).items():
        if len(members) > 1:
            out += _replicate_table(results, group, members, label, wide)
    return "\n".join(out) + "\n"


def _curve_table(results, curve, label, wide, has_target) -> list[str]:
    a = results.attrs
    points = curve.points
    theory = closed_form_ber(curve.theory, results.convention)
    effective = [point_effective_snr(curve, p, a["confidence"], a["interval"]) for p in points]
    measured = bool(points) and all(e is not None for e in effective)
    kinds = curve.metrics if wide else {m: curve.metrics[m] for m in _key_metrics(curve.metrics, measured)}
    summaries = [{n: point_summary(p, n, k, a["confidence"], a["interval"]) for n, k in kinds.items()} for p in points]
    errors = [{n: rate_errors(p, n) for n, k in kinds.items() if k == "rate"} for p in points]
    flags = [stop_flag(p.stop_reason, has_target and "rate" in curve.metrics.values()) for p in points]
    start = [Column(f"{label} dB", 8, lambda r: f"{points[r].snr_db:.2f}")]
    if measured:
        start.append(Column(f"eff. {label} dB", len(label) + 8, lambda r: f"{effective[r].value:.2f}"))
    if theory:
        start.append(Column("closed form", 11, lambda r: f"{float(theory(points[r].snr_db)):.2e}"))
    if any(p.samples for p in points):
        start.append(Column("samples", max(7, *(len(str(p.samples)) for p in points)), lambda r: str(points[r].samples)))
    end = []
    if wide and any(math.isfinite(p.seconds) for p in points):
        end.append(Column("seconds", 9, lambda r: f"{points[r].seconds:.2f}" if math.isfinite(points[r].seconds) else "-"))
    if wide and any(p.stop_reason for p in points):
        end.append(Column("stop", 19, lambda r: points[r].stop_reason + (" !" if flags[r] else "")))
    elif any(flags):
        end.append(Column("stop", 10, lambda r: flags[r]))
    columns, left_out = fit(start, _metric_columns(kinds, summaries, errors), end) if not wide else \
        (start + _metric_columns(kinds, summaries, errors) + end, [])
    untrained = "; UNTRAINED: learned stages with random weights" if curve.random_weights else ""
    counted = "".join(f"; {text}" for text in curve.counted.values())
    lines = render(columns, range(len(points)))
    return (comment(f"curve {curve.name}{power_note(curve)}{untrained}{counted}") + omitted(left_out) + ["# " + "-" * (len(lines[0]) - 2)]
            + lines)


def _replicate_table(results, group, members, label, wide) -> list[str]:
    """The mean over a curve's replicates with the interval across them (the training spread)."""
    kinds = results.curve(members[0]).metrics
    kinds = kinds if wide else {m: kinds[m] for m in _key_metrics(kinds, effective=False)}
    rows = replicate_summaries(results, members)
    start = [Column(f"{label} dB", 8, lambda r: f"{rows[r][0]:.2f}")]
    optional = []
    for name in kinds:
        spec = mean_format([v[name].value for _, v in rows], [(v[name].high - v[name].low) / 2 for _, v in rows])
        cells = [mean_cell(v[name].value, (v[name].high - v[name].low) / 2, spec) for _, v in rows]
        optional.append(Column(name, max(len(name), *(len(c) for c in cells)) if cells else len(name), lambda r, cs=cells: cs[r]))
    columns, left_out = (start + optional, []) if wide else fit(start, optional, [])
    lines = render(columns, range(len(rows)))
    return (comment(f"curve {group}: mean over {len(members)} replicates ± the {int(results.attrs['confidence'] * 100)}% Student t "
                    "interval across them (the training spread; each replicate's Monte Carlo interval is in its own table)")
            + omitted(left_out) + ["# " + "-" * (len(lines[0]) - 2)] + lines)


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
                rows[curve.name][name] = point_summary(point, name, kind, confidence, interval).value
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
