"""A results CSV (``linksim table --csv``, written next to every results file) read back into what
:class:`~linksim.output.results.Results` holds (``Results.load`` of a ``.csv``), so that ``table``,
``compare`` and ``plot`` work on the CSVs committed with a study as on its HDF5 file.

The CSV holds each point's value, interval and count per metric and per replicate; that is what the
tables, comparisons and figures use. What it lacks is read as unknown: the run's seed, commit and
times, each point's samples, seconds and stop reason. The rest is recovered from the rows:

- a metric is a **rate** when its intervals are asymmetric about the value somewhere (binomial
  intervals are; the Student t intervals of means are symmetric), its error count is value × count;
- the mean rows of a replicated curve (``c`` beside ``c#r0``, ``c#r1`` …) are recomputed from its
  replicates, not read, and their interval gives the confidence level (Student t across the
  replicates); without replicates the level is taken as 0.95, linksim's default;
- ``ber_closed_form`` rows become the closed form whose values they are (uncoded AWGN or Rayleigh BER
  of a Gray or natural constellation, equal to 6 significant digits at every point), else a tabulated
  one interpolated between the points; ``effective_snr_db`` beside ``tx_power``
  gives the power the noise refers to, so ``--axis effective`` works.
"""
import csv
import io
import math
import os

import numpy as np

from linksim.engine.errors import InputError
from linksim.engine.statistics import CONVENTION_LABELS, POWER_METRIC, MetricSummary, PointResult
from linksim.output.replicates import replicate_groups

__all__ = ["parse_results_csv", "MAX_CSV_BYTES"]

MAX_CSV_BYTES = 64 * 2**20
FIELDS = ("curve", "snr_db", "convention", "metric", "value", "ci_low", "ci_high", "count")
DEFAULT_CONFIDENCE = 0.95
CLOSED_FORM, EFFECTIVE = "ber_closed_form", "effective_snr_db"


def _number(text: str) -> float:
    return float(text) if text != "" else float("nan")


def _rows(content: bytes, path: str) -> list[tuple]:
    """``(line, curve, snr_db, convention, metric, MetricSummary)`` of every row; ``InputError`` naming the line."""
    try:
        lines = list(csv.reader(io.StringIO(content.decode("utf-8"))))
    except (UnicodeDecodeError, csv.Error) as exc:
        raise InputError(f"{path}: not a CSV text file ({exc})") from None
    if not lines or tuple(lines[0]) != FIELDS:
        raise InputError(f"{path}: line 1: expected the header {','.join(FIELDS)} of a linksim results CSV")
    rows = []
    for number, cells in enumerate(lines[1:], start=2):
        if not cells:
            continue
        try:
            if len(cells) != len(FIELDS):
                raise ValueError(f"{len(cells)} fields, expected {len(FIELDS)}")
            curve, snr, convention, metric, value, low, high, count = cells
            summary = MetricSummary(_number(value), _number(low), _number(high), int(count))
            snr_db = float(snr)
            if not curve or not metric or not math.isfinite(snr_db) or summary.count < 0 or convention not in CONVENTION_LABELS:
                raise ValueError("an empty name, a non-finite SNR, a negative count or an unknown convention")
        except ValueError as exc:
            raise InputError(f"{path}: line {number}: not a results row ({exc})") from None
        rows.append((number, curve, snr_db, convention, metric, summary))
    if not rows:
        raise InputError(f"{path}: no rows; expected a linksim results CSV")
    return rows


def _binomial(s: MetricSummary) -> bool:
    """Whether a row reads as a rate's: an interval asymmetric about the value beyond the CSV's 7
    significant digits, and value × count a whole number of errors."""
    if not all(math.isfinite(x) for x in (s.value, s.low, s.high)) or s.high <= s.low or not 0 <= s.value <= 1:
        return False
    rounding = 1e-6 * max(abs(s.low), abs(s.high))
    errors = s.value * s.count
    return abs((s.high - s.value) - (s.value - s.low)) > 1e-3 * (s.high - s.low) + 2 * rounding and abs(errors - round(errors)) < 1e-3 * max(1.0, errors)


def _confidence(by_curve: dict, groups: dict, group_rows: dict) -> float:
    """The confidence level that the Student t interval of a replicated curve's mean row implies."""
    from scipy import stats

    for group, members in groups.items():
        for (snr_db, metric), row in group_rows.get(group, {}).items():
            values = [by_curve[m].get(snr_db, {}).get(metric) for m in members]
            if any(v is None for v in values) or not math.isfinite(row.high - row.low):
                continue
            spread = np.std([v.value for v in values], ddof=1) / math.sqrt(len(values))
            if spread > 1e-9 * max(1.0, abs(row.value)) and row.high > row.low:
                t = (row.high - row.low) / 2 / spread
                return round(float(2 * stats.t.cdf(t, len(values) - 1) - 1), 4)
    return DEFAULT_CONFIDENCE


def parse_results_csv(content: bytes, path: str) -> tuple[dict, list[dict]]:
    """The run attributes and the curves (keyword arguments of
    :class:`~linksim.output.results.CurveResults`) of a results CSV's bytes, as the module's docstring
    says; ``InputError`` naming the file ``path`` and the line if it is not one."""
    rows = _rows(content, path)
    conventions = {row[3] for row in rows}
    if len(conventions) > 1:
        raise InputError(f"{path}: rows in several SNR conventions ({', '.join(sorted(conventions))}); expected one")
    names = list(dict.fromkeys(row[1] for row in rows))
    replicated = {g: [m for m in members if m != g] for g, members in replicate_groups(names).items()}
    replicated = {g: members for g, members in replicated.items() if members}
    derived = {g for g in replicated if g in names}  # a replicated curve's mean rows: recomputed, not read
    by_curve, group_rows, asymmetric = {}, {}, set()
    for number, curve, snr_db, _, metric, summary in rows:
        if curve in derived:
            group_rows.setdefault(curve, {})[(snr_db, metric)] = summary
            continue
        point = by_curve.setdefault(curve, {}).setdefault(snr_db, {})
        if metric in point:
            raise InputError(f"{path}: line {number}: a second row of {curve!r}, {metric!r} at {snr_db:g} dB")
        point[metric] = summary
        if _binomial(summary):
            asymmetric.add(metric)
    convention = conventions.pop()
    curves = [_curve(path, index, name, points, asymmetric, convention) for index, (name, points) in
              enumerate((n, by_curve[n]) for n in names if n in by_curve)]
    attrs = {"name": os.path.splitext(os.path.basename(path))[0], "seed": "-", "status": "read from CSV", "git_commit": "-",
             "started_utc": "-", "convention": convention, "interval": "as stored",
             "confidence": _confidence(by_curve, {g: replicated[g] for g in derived}, group_rows)}
    return attrs, curves


def _identified_closed_form(snrs: list, values: list, convention: str) -> dict:
    """The reference (as results files store it) whose closed-form BER gives ``values`` at ``snrs``
    to 6 significant digits (``equal_to``: the other modulations whose closed form gives the same), else
    ``{"type": "tabulated", ...}`` holding the values."""
    from linksim.engine.statistics import closed_form_ber
    from linksim.phy.constellations import LABELLINGS
    from linksim.phy.modulations import MODULATIONS

    values = np.asarray(values, float)
    matches = []
    for kind in ("awgn_ber", "rayleigh_ber"):
        for modulation in sorted(MODULATIONS, key=lambda m: m.startswith("pam")):  # of equals, QAM names first
            for labelling in LABELLINGS:
                theory = {"type": kind, "modulation": modulation, "labelling": labelling}
                ber = closed_form_ber(theory, convention)
                if ber is not None and np.allclose(ber(np.asarray(snrs, float)), values, rtol=1e-6, atol=0):
                    matches.append(theory)
    if not matches:
        return {"type": "tabulated", "snr_db": snrs, "ber": values.tolist()}
    # equal closed forms (BPSK and QPSK against Eb/N0, Gray 16-QAM and 4-PAM): the CSV cannot tell which
    first = matches[0]
    others = dict.fromkeys(m["modulation"] for m in matches if m["type"] == first["type"] and m["modulation"] != first["modulation"])
    return {**first, "equal_to": list(others)}


def _curve(path, index, name, points: dict, rates: set, convention: str) -> dict:
    """One results curve's fields from its rows: ``points`` {snr_db: {metric: MetricSummary}}."""
    metrics = list(dict.fromkeys(m for values in points.values() for m in values if m not in (CLOSED_FORM, EFFECTIVE)))
    kinds = {m: "rate" if m in rates else "mean" for m in metrics}
    for snr_db, values in points.items():
        for m in metrics:
            s = values.get(m)
            if s is None:
                raise InputError(f"{path}: curve {name!r} has no {m!r} row at {snr_db:g} dB; expected every metric at every point")
            if kinds[m] == "rate" and not (0 <= s.value <= 1 or math.isnan(s.value)):
                raise InputError(f"{path}: curve {name!r}, {m!r} at {snr_db:g} dB: a rate of {s.value:g} (expected 0 … 1)")
    snrs = sorted(points)
    result_points = [PointResult(name, i, snr, float("nan"), 0, 0, float("nan"), "", kinds=kinds,
                                 summaries={m: points[snr][m] for m in metrics}) for i, snr in enumerate(snrs)]
    theory = None
    if all(CLOSED_FORM in points[snr] for snr in snrs):
        theory = _identified_closed_form(snrs, [points[snr][CLOSED_FORM].value for snr in snrs], convention)
    signal_power = None
    if POWER_METRIC in metrics:
        for snr in snrs:
            effective, power = points[snr].get(EFFECTIVE), points[snr][POWER_METRIC]
            if effective is not None and math.isfinite(effective.value) and power.value > 0:
                signal_power = power.value * 10 ** (-(effective.value - snr) / 10)
                break
    return {"name": name, "index": index, "metrics": kinds, "theory": theory, "points": result_points, "signal_power": signal_power}
