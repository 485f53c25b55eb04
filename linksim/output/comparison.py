"""Comparing the curves of a results file: side by side against a baseline, at equal measured power,
and by the SNR each needs to reach a target.

A curve is a series of (SNR in dB, metric value) pairs. The SNR is the nominal one of the sweep, or
with ``axis="effective"`` the measured effective SNR of each point (the nominal SNR shifted by the
measured channel-input power over the power the noise refers to, see
:func:`linksim.engine.statistics.effective_snr`), so curves that send different powers are compared
at equal power. Between measured points values are interpolated linearly in dB, rates in log10 (the
field's convention for waterfall curves). Gaps are differences for mean metrics (PSNR, SSIM) and
ratios for rates (BER, BLER).

Curves trained as replicates (``name#r<k>``) are compared through their mean over replicates; each
gap then carries the interval across replicates (Student t over the per-replicate gaps), and a gap
whose interval contains no difference is marked "within training spread".
"""
import math
from dataclasses import dataclass

import numpy as np

from linksim.engine.statistics import CONVENTION_LABELS, MetricSummary, point_summary
from linksim.output.columns import Column, comment, fit, mean_format, render
from linksim.output.replicates import replicate_groups
from linksim.phy.intervals import mean_interval

__all__ = ["Series", "curve_series", "value_at", "snr_to_reach", "mean_gaps", "format_comparison", "format_targets", "shared_metric"]


@dataclass
class Series:
    """One curve's metric against SNR: ``x`` [P] dB ascending, ``values`` [P]; ``kind`` "rate" or "mean"."""

    name: str
    kind: str
    x: np.ndarray
    values: np.ndarray


def curve_series(results, curve, metric: str, axis: str = "nominal", snr_window=None) -> Series:
    """The series of ``metric`` of results curve ``curve`` on the nominal or effective SNR axis.

    ``snr_window`` ``(low, high)`` keeps the points whose nominal SNR lies in [low, high] dB."""
    from linksim.output.report import point_effective_snr

    confidence, interval = results.attrs["confidence"], results.attrs["interval"]
    low, high = snr_window if snr_window is not None else (-math.inf, math.inf)
    kind = curve.metrics[metric]
    xs, values = [], []
    for point in curve.points:
        if not low <= point.snr_db <= high:
            continue
        if axis == "effective":
            effective = point_effective_snr(curve, point, confidence, interval)
            if effective is None:
                raise ValueError(f"curve {curve.name!r} has no measured channel-input power (no noise channel, or a file from "
                                 "before linksim measured it): --axis effective needs it")
            xs.append(effective.value)
        else:
            xs.append(point.snr_db)
        values.append(point_summary(point, metric, kind, confidence, interval).value)
    order = np.argsort(xs, kind="stable")
    return Series(curve.name, kind, np.asarray(xs, float)[order], np.asarray(values, float)[order])


def _scale(kind, values):
    """Rates interpolate in log10 (zeros stay linear), means linearly."""
    values = np.asarray(values, float)
    return np.log10(values) if kind == "rate" and np.all(values > 0) else values


def _unscale(kind, scaled, logged):
    return 10.0 ** scaled if kind == "rate" and logged else scaled


def value_at(series: Series, x: float) -> float:
    """The series at ``x`` dB, interpolated between its two neighbouring points (nan outside its range)."""
    if len(series.x) == 0 or not series.x[0] - 1e-9 <= x <= series.x[-1] + 1e-9:
        return float("nan")
    hit = np.flatnonzero(np.isclose(series.x, x, atol=1e-9))
    if hit.size:
        return float(series.values[hit[0]])
    right = int(np.searchsorted(series.x, x))
    pair = series.values[right - 1:right + 1]
    logged = series.kind == "rate" and np.all(pair > 0)
    scaled = _scale(series.kind, pair) if logged else pair
    weight = (x - series.x[right - 1]) / (series.x[right] - series.x[right - 1])
    return float(_unscale(series.kind, scaled[0] + weight * (scaled[1] - scaled[0]), logged))


def snr_to_reach(series: Series, target: float) -> tuple[float, str]:
    """The SNR (dB) at which the series reaches ``target`` as the SNR grows, and how it was found:
    ``"interpolated"``, ``"at a point"``, ``"below the sweep"`` (the first point has reached it; the value
    is that point's SNR) or ``"not reached"`` (nan).

    "Reached" means at or below the target for a rate, and on the side the series moves towards for a
    mean (above for a rising PSNR, below for a falling MSE); the SNR is where the series last crosses
    into that side."""
    values, xs = series.values, series.x
    if len(xs) == 0:
        return float("nan"), "not reached"
    side = np.sign(values - target)
    goal = -1.0 if series.kind == "rate" else (1.0 if values[-1] >= values[0] else -1.0)
    reached = (side == goal) | (side == 0)
    if not reached[-1]:
        return float("nan"), "not reached"
    first = len(xs) - 1
    while first > 0 and reached[first - 1]:
        first -= 1
    if first == 0:
        return float(xs[0]), "below the sweep" if side[0] != 0 else "at a point"
    if side[first] == 0:
        return float(xs[first]), "at a point"
    pair = values[first - 1:first + 1]
    logged = series.kind == "rate" and np.all(pair > 0) and target > 0
    scaled = _scale(series.kind, pair) if logged else pair
    goal_scaled = math.log10(target) if logged else target
    weight = (goal_scaled - scaled[0]) / (scaled[1] - scaled[0])
    return float(xs[first - 1] + weight * (xs[first] - xs[first - 1])), "interpolated"


def shared_metric(results, names, metric=None) -> str:
    """``metric`` if every curve in ``names`` has it, else (``None``) the first metric of the first curve
    that all of them share; ``ValueError`` listing the metrics otherwise."""
    curves = [results.curve(n) for n in names]
    shared = [m for m in curves[0].metrics if all(m in c.metrics for c in curves)]
    if metric is None:
        if not shared:
            raise ValueError("the curves share no metric; name one with --metric")
        return shared[0]
    if metric not in shared:
        have = sorted({m for c in curves for m in c.metrics})
        raise ValueError(f"not every chosen curve has metric {metric!r} (metrics: {', '.join(have)})")
    return metric


def _gap(kind, value, reference):
    """``value − reference``, or for rates ``value / reference`` (nan where the reference rate is 0)."""
    if kind == "rate":
        return value / reference if reference > 0 else float("nan")
    return value - reference


def _gap_text(kind, gap, spread=None, spec=".2f"):
    """``+1.75``, ``×0.52`` or ``-`` (no gap), with `` [low, high]`` where ``spread`` is given."""
    if math.isnan(gap):
        return "-"
    text = f"×{gap:.3g}" if kind == "rate" else f"{gap:+{spec}}"
    if spread is not None and not math.isnan(spread[0]):
        text += f" [{spread[0]:+{spec}}, {spread[1]:+{spec}}]" if kind != "rate" else f" [×{spread[0]:.3g}, ×{spread[1]:.3g}]"
    return text


def _value_text(kind, value, spec) -> str:
    return "-" if math.isnan(value) else f"{value:.2e}" if kind == "rate" else f"{value:{spec}}"


def _selected(results, baseline, curves):
    from linksim.output.report import name_matches

    names = [c.name for c in results.curves]
    groups = replicate_groups(names)
    if baseline not in groups:
        raise ValueError(f"no curve {baseline!r} (curves: {', '.join(groups)})")
    return {g: members for g, members in groups.items() if curves is None or g == baseline or name_matches(g, curves)}


def _group_series(results, members, metric, axis, snr_window) -> list[Series]:
    return [curve_series(results, results.curve(m), metric, axis, snr_window) for m in members]


def _mean_gap(kind, a: Series, b: Series, xs) -> float:
    """The mean gap of ``a`` against ``b`` over the points ``xs`` (geometric for rates)."""
    gaps = [_gap(kind, value_at(a, x), value_at(b, x)) for x in xs]
    gaps = [g for g in gaps if not math.isnan(g) and (kind != "rate" or g > 0)]
    if not gaps:
        return float("nan")
    return float(np.exp(np.mean(np.log(gaps)))) if kind == "rate" else float(np.mean(gaps))


def _spread(kind, replicate_gaps, confidence):
    """Interval across replicates of a gap (t interval of the per-replicate gaps; of their logs for ratios)."""
    gaps = np.asarray([g for g in replicate_gaps if not math.isnan(g)], float)
    if len(gaps) < 2:
        return None
    values = np.log(gaps) if kind == "rate" else gaps
    _, low, high = mean_interval(values.sum(), np.square(values).sum(), len(values), confidence)
    return (math.exp(low), math.exp(high)) if kind == "rate" else (low, high)


def _within(kind, spread):
    return spread is not None and (spread[0] <= 1.0 <= spread[1] if kind == "rate" else spread[0] <= 0.0 <= spread[1])


@dataclass
class _Compared:
    """What a comparison works on: the chosen groups' series and the rows' SNRs."""

    metric: str
    kind: str
    confidence: float
    groups: dict  # group -> its results curves (replicates)
    per_group: dict  # group -> [Series per replicate]
    mean_series: dict  # group -> Series (mean over replicates)
    names: list
    xs: list  # the rows' SNRs
    baseline: str

    @property
    def base(self) -> Series:
        return self.mean_series[self.baseline]


def _prepared(results, metric, baseline, snr_window, curves, axis) -> _Compared:
    groups = _selected(results, baseline, curves)
    metric = shared_metric(results, [m for members in groups.values() for m in members], metric)
    kind = results.curve(groups[baseline][0]).metrics[metric]
    per_group = {g: _group_series(results, members, metric, axis, snr_window) for g, members in groups.items()}
    if not len(per_group[baseline][0].x):
        low, high = snr_window or (-math.inf, math.inf)
        raise ValueError(f"curve {baseline!r} has no SNR point in [{low:g}, {high:g}] dB")
    mean_series = {g: _mean_series(g, s) for g, s in per_group.items()}
    xs = list(mean_series[baseline].x) if axis == "effective" else sorted({float(x) for s in mean_series.values() for x in s.x})
    return _Compared(metric, kind, results.attrs["confidence"], groups, per_group, mean_series, list(per_group), xs, baseline)


def _mean_and_gap(c: _Compared, name) -> tuple[float, float, tuple | None]:
    """``name``'s mean value over the points it shares with the baseline, its mean gap to it and the
    gap's interval across replicates (``None`` without replicates)."""
    series, base = c.mean_series[name], c.base
    shared = [x for x in c.xs if not math.isnan(value_at(series, x)) and not math.isnan(value_at(base, x))]
    values = [value_at(series, x) for x in shared]
    mean = float(np.mean(values)) if values else float("nan")
    if name == c.baseline:
        return mean, float("nan"), None
    gap = _mean_gap(c.kind, series, base, shared)
    return mean, gap, _replicate_spread(c.kind, c.per_group[name], c.per_group[c.baseline], shared, c.confidence)


def mean_gaps(results, metric, baseline: str, snr_window=None, curves=None, axis: str = "nominal") -> dict:
    """The mean gap of every chosen curve to ``baseline`` (what the last row of :func:`format_comparison`
    shows): ``{curve: MetricSummary(gap, low, high, replicates)}``, low and high the interval across
    replicates (nan without replicates); the gap is a difference, or a ratio for rates."""
    c = _prepared(results, metric, baseline, snr_window, curves, axis)
    out = {}
    for name in c.names:
        if name != baseline:
            _, gap, spread = _mean_and_gap(c, name)
            low, high = spread if spread is not None else (float("nan"), float("nan"))
            out[name] = MetricSummary(gap, low, high, len(c.per_group[name]))
    return out


def format_comparison(results, metric, baseline: str, snr_window=None, curves=None, axis: str = "nominal", wide: bool = False) -> str:
    """One column per curve of ``metric`` at each SNR, each followed by its gap to the ``baseline`` curve
    (difference, or ratio for rates), and a last row with the mean gaps over the points both share.

    ``metric`` ``None`` picks the one the curves share. ``snr_window`` ``(low, high)`` keeps the points
    whose nominal SNR is in [low, high] dB; ``curves`` (shell patterns, comma-separated) keeps the matching
    curves and the baseline. ``axis="effective"`` compares at equal measured effective SNR: the rows are
    the baseline's effective SNRs and the other curves are interpolated there; a note names every curve
    whose mean gap changes sign against the nominal comparison. Replicated curves show the mean over
    their replicates, and each mean gap its interval across replicates. The table comes in blocks of at
    most 100 characters, each with the SNR and the baseline (one block with ``wide``); every value of
    the metric has the same decimals, and its gaps too.
    """
    c = _prepared(results, metric, baseline, snr_window, curves, axis)
    kind, confidence, names, xs, base, mean_series = c.kind, c.confidence, c.names, c.xs, c.base, c.mean_series
    spec = mean_format([v for s in mean_series.values() for v in s.values], significant=4)
    rows = [{"x": f"{x:.2f}", **{n: (value_at(mean_series[n], x), value_at(base, x)) for n in names}} for x in xs]
    mean_row, notes = {"x": "mean"}, []
    for n in names:
        mean, gap, spread = _mean_and_gap(c, n)
        mean_row[n] = (mean, None if n == baseline else gap, spread)
        if n == baseline:
            continue
        if spread is not None:
            verdict = "within training spread" if _within(kind, spread) else "beyond training spread"
            notes += comment(f"{n} against {baseline}: {_gap_text(kind, gap, spec=spec)} {verdict} "
                             f"({len(c.per_group[n])} and {len(c.per_group[baseline])} replicates, {confidence:.0%} t interval)")
        if axis == "effective":
            nominal = {g: _mean_series(g, _group_series(results, c.groups[g], c.metric, "nominal", snr_window)) for g in (n, baseline)}
            both = [x for x in nominal[baseline].x if not math.isnan(value_at(nominal[n], x))]
            before = _mean_gap(kind, nominal[n], nominal[baseline], both)
            flipped = (before - 1) * (gap - 1) < 0 if kind == "rate" else before * gap < 0
            if flipped:
                notes += comment(f"ranking changes at equal power: {n} against {baseline} is {_gap_text(kind, before, spec=spec)} on the "
                                 f"nominal axis, {_gap_text(kind, gap, spec=spec)} at equal effective SNR")
    for row in rows:
        for n in names:
            v, ref = row[n]
            row[n] = (v, None if n == baseline else _gap(kind, v, ref), None)
    rows.append(mean_row)
    axis_title = ("eff. " if axis == "effective" else "") + CONVENTION_LABELS[results.convention] + " dB"
    columns = {}
    for n in names:
        cells = {"value": [_value_text(kind, r[n][0], spec) for r in rows],
                 "gap": [_gap_text(kind, r[n][1], r[n][2], spec) if r[n][1] is not None else "-" for r in rows]}
        columns[n] = [Column(n, max(len(n), *map(len, cells["value"])), lambda r, cs=cells["value"]: cs[r])]
        if n != baseline:
            title = "Δ" if kind != "rate" else "ratio"
            columns[n].append(Column(title, max(len(title), *map(len, cells["gap"])), lambda r, cs=cells["gap"]: cs[r]))
    unit = " (measured, equal power)" if axis == "effective" else ""
    gap_word = "curve / " if kind == "rate" else "curve − "
    lines = comment(f"{c.metric}; {'ratio' if kind == 'rate' else 'Δ'} = {gap_word}{baseline}; SNR axis: {axis}{unit}")
    for block in _blocks(Column(axis_title, max(len(axis_title), 6), lambda r: rows[r]["x"]), columns, baseline, wide):
        lines += render(block, range(len(rows)))
    return "\n".join(lines + notes) + "\n"


def _blocks(first: Column, columns: dict, baseline: str, wide: bool) -> list[list[Column]]:
    """The table's columns in blocks of at most TABLE_WIDTH characters (one block if ``wide``): each
    block starts with the SNR and the baseline, then as many curves (value and gap) as fit."""
    lead = [first] + columns[baseline]
    others = [cols for n, cols in columns.items() if n != baseline]
    if wide:
        return [lead + [c for cols in others for c in cols]]
    blocks, current = [], []
    for cols in others:
        chosen, left_out = fit(lead, current + cols, [])
        if left_out and current:
            blocks.append(lead + current)
            current = []
        current += cols
    return blocks + [lead + current]


def _mean_series(name, replicates: list[Series]) -> Series:
    """The mean over replicates (one series: itself). Replicates measured at the same points of the
    sweep are averaged point by point, SNR and value: on the effective axis each replicate's points
    sit at its own measured SNRs, and interpolating the others at the first one's would lose the
    points at the ends. Otherwise the mean at the first replicate's points."""
    if len(replicates) == 1:
        return replicates[0]
    first = replicates[0]
    if all(len(s.x) == len(first.x) for s in replicates):
        return Series(name, first.kind, np.mean([s.x for s in replicates], axis=0), np.mean([s.values for s in replicates], axis=0))
    values = np.mean([[value_at(s, x) for x in first.x] for s in replicates], axis=0)
    return Series(name, first.kind, first.x, values)


def _replicate_spread(kind, curve_replicates, baseline_replicates, xs, confidence):
    """Interval across replicates of the mean gap: replicate k against baseline replicate k where both
    have the same number, against the other side's only curve where one has one, and against the
    baseline's mean otherwise."""
    if len(curve_replicates) < 2 and len(baseline_replicates) < 2:
        return None
    if len(curve_replicates) > 1 and len(baseline_replicates) > 1 and len(curve_replicates) != len(baseline_replicates):
        baseline_replicates = [_mean_series("baseline", baseline_replicates)]
    count = max(len(curve_replicates), len(baseline_replicates))
    gaps = [_mean_gap(kind, curve_replicates[k % len(curve_replicates)], baseline_replicates[k % len(baseline_replicates)], xs)
            for k in range(count)]
    return _spread(kind, gaps, confidence)


def format_targets(results, metric: str, target: float, baseline: str, curves=None, axis: str = "nominal", snr_window=None) -> str:
    """The SNR each curve needs to reach ``metric`` = ``target`` (interpolated between measured points) and
    its difference in dB to the baseline's; with replicates, the mean over replicates and the interval
    across them."""
    groups = _selected(results, baseline, curves)
    metric = shared_metric(results, [m for members in groups.values() for m in members], metric)
    confidence = results.attrs["confidence"]
    label = CONVENTION_LABELS[results.convention]
    needed = {}
    for g, members in groups.items():
        found = [snr_to_reach(s, target) for s in _group_series(results, members, metric, axis, snr_window)]
        needed[g] = found
    base = [x for x, _ in needed[baseline]]
    width = max(12, *(len(g) for g in groups))
    lines = [f"# {label} (dB, {axis} axis) at which {metric} reaches {target:g}; Δ = curve − {baseline}",
             f"{'curve':<{width}} {'needs dB':>9} {'Δ dB':>8}  how"]
    for g, found in needed.items():
        xs = [x for x, _ in found]
        how = ", ".join(sorted({h for _, h in found}))
        mean = float(np.mean(xs)) if not any(math.isnan(x) for x in xs) else float("nan")
        if math.isnan(mean):
            lines.append(f"{g:<{width}} {'—':>9} {'':>8}  not reached" + (f" ({sum(math.isnan(x) for x in xs)} of {len(xs)} replicates)" if len(xs) > 1 else ""))
            continue
        text = f"{g:<{width}} {mean:9.2f}"
        if g != baseline and not any(math.isnan(x) for x in base):
            gap = mean - float(np.mean(base))
            text += f" {gap:+8.2f}"
            if len(xs) > 1 or len(base) > 1:
                pairs = [xs[k % len(xs)] - base[k % len(base)] for k in range(max(len(xs), len(base)))]
                spread = _spread("mean", pairs, confidence)
                if spread is not None:
                    text += f" [{spread[0]:+.2f}, {spread[1]:+.2f}] {'within' if _within('mean', spread) else 'beyond'} training spread"
        else:
            text += f" {'':>8}"
        lines.append(f"{text}  {how}")
    return "\n".join(lines) + "\n"
