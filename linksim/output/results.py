"""Self-describing, crash-safe HDF5 results: one file per run.

Layout (``format = "linksim-results"``, ``format_version = 1``)::

    /                 attrs: scenario (resolved YAML), scenario_sha256, scenario_path, name, seed,
                             convention, confidence, interval, versions (JSON), git_commit,
                             started_utc, finished_utc, status, error, checksum, and
                             curves (JSON list of the curves run, where ``--curves`` chose some)
    /curves/<curve>   attrs: index, metrics (JSON {name: kind}), theory (JSON or "")
        /points/<p>   attrs: snr_db, no, samples, chunks, seconds, stop_reason, constant_taps
            /<metric> attrs: errors, trials (rates) or sum, sum_sq, count (means)
        /partial      the point in progress (same attrs as a point): what ``--resume`` continues

Every commit writes the whole file (it holds counts only, so it is small) to a temporary file,
flushes it to disk and renames it over the old one: a crash leaves the previous commit intact.
``checksum`` is the SHA-256 of the content; the file's first 512 bytes (an HDF5 user block) hold the
*seal*, the SHA-256 and length of the bytes after it, checked before the HDF5 library parses
anything (it can crash the process on a damaged file). A file whose seal or checksum does not
match, or whose counts are impossible (more errors than trials), is reported as damaged and never
merged. One writer at a time: :class:`ResultsLock`.
"""
import contextlib
import datetime
import errno
import hashlib
import io
import json
import math
import os
import stat
import subprocess
import time
import dataclasses
from dataclasses import dataclass, field

import h5py
import numpy as np

from linksim.engine.errors import InputError, LinksimError
from linksim.engine.statistics import POWER_METRIC, PointResult, power_axis

__all__ = ["Results", "CurveResults", "ResultsWriter", "ResultsLock", "WriteError", "load_for_resume", "FORMAT"]

FORMAT = "linksim-results"
FORMAT_VERSION = 1
POINT_ATTRS = ("snr_db", "no", "samples", "chunks", "seconds", "stop_reason", "constant_taps")


def _now():
    return datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")


def package_versions() -> dict:
    import platform
    from importlib.metadata import PackageNotFoundError, version

    out = {}
    for name in ("linksim", "sionna-no-rt", "tensorflow", "numpy", "scipy", "h5py", "pydantic", "ray"):
        try:
            out[name] = version(name)
        except PackageNotFoundError:
            out[name] = "not installed"
    out["python"] = platform.python_version()
    return out


def git_commit() -> str:
    """Commit of the linksim source tree, with ``-dirty`` if it has local changes."""
    here = os.path.dirname(os.path.abspath(__file__))
    try:
        commit = subprocess.run(["git", "rev-parse", "HEAD"], cwd=here, capture_output=True, text=True, timeout=5)
        if commit.returncode != 0:
            return "unknown"
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=here, capture_output=True, text=True, timeout=5)
        return commit.stdout.strip() + ("-dirty" if dirty.stdout.strip() else "")
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def scenario_sha256(resolved: str) -> str:
    return hashlib.sha256(resolved.encode()).hexdigest()


def _plain(value):
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return [_plain(v) for v in value.tolist()]
    if isinstance(value, bytes):
        return value.decode()
    return value


@dataclass
class CurveResults:
    name: str
    index: int
    metrics: dict  # metric name -> "rate" | "mean"
    theory: dict | None
    points: list = field(default_factory=list)  # finished PointResult, ordered by SNR index
    partial: PointResult | None = None  # the point in progress, if any
    signal_power: float | None = None  # the power the noise refers to (files before it: None)
    power_axis: str = ""  # "declared", "measured" or "nominal": what the SNR axis means
    random_weights: bool = False  # learned stages run untrained (weights: random)
    counted: dict = field(default_factory=dict)  # metric -> what one of its trials is, where a metric says (bler per codeword)

    @property
    def power_metric(self) -> str | None:
        """The measured channel-input power (``tx_power``), if the curve has a noise channel."""
        return POWER_METRIC if POWER_METRIC in self.metrics else None


@dataclass
class Results:
    """The content of a results file: run attributes and per-curve counts.

    ``Results.load(path)`` reads and verifies a file; :meth:`table`, :meth:`compare`, :meth:`plot` and
    :meth:`to_rows` give what ``linksim table``, ``compare`` and ``plot`` print or draw. After
    :meth:`linksim.Scenario.run`, ``figures`` lists the figures drawn and ``csv_path`` the CSV export.
    """

    attrs: dict
    curves: list
    path: str = ""
    figures: list = field(default_factory=list)
    csv_path: str = ""

    def __repr__(self):
        return (f"Results({self.path!r}, scenario={self.attrs.get('name')!r}, status={self.attrs.get('status')!r}, "
                f"curves={[c.name for c in self.curves]})")

    @property
    def convention(self) -> str:
        return self.attrs["convention"]

    @property
    def names(self) -> list[str]:
        """The curves' names (``<curve>#r<k>`` for replicates), in scenario order."""
        return [c.name for c in self.curves]

    def curve(self, name) -> CurveResults:
        return next(c for c in self.curves if c.name == name)

    # ------------------------------------------------------------------ reading it as people do
    def to_rows(self) -> list[dict]:
        """The tidy long-format table: one dict per (curve, SNR point, metric) with ``curve, snr_db,
        convention, metric, value, ci_low, ci_high, count`` (``linksim table --csv``; ready for
        ``pandas.DataFrame(results.to_rows())``)."""
        from linksim.output.report import long_rows

        return long_rows(self)

    def table(self, wide: bool = False) -> str:
        """The per-curve tables, recomputed from the stored counts (what ``linksim table`` prints): at
        most 100 characters wide with the key metrics, every column with ``wide``."""
        from linksim.output.report import format_results

        return format_results(self, wide)

    def compare(self, baseline: str, metric: str | None = None, at: float | None = None, snr=None, curves=None,
                axis: str = "nominal", wide: bool = False) -> str:
        """Gaps to curve ``baseline`` (what ``linksim compare`` prints).

        Parameters
        ----------
        baseline : str
        metric : str or None
            Default: the first metric the curves share.
        at : float or None
            With ``metric``: the SNR each curve needs to reach this value and its gap to the baseline.
        snr : (low, high) or None
            Only the points in this window (dB).
        curves : str or None
            Shell pattern(s) of the curves shown (and the baseline).
        axis : ``"nominal"`` or ``"effective"``
            ``effective`` compares at equal measured transmit power.
        wide : bool
            One table however wide (default: blocks of at most 100 characters).
        """
        from linksim.output.comparison import format_comparison, format_targets

        try:
            if at is not None:
                if metric is None:
                    raise InputError("compare: at= needs metric= (e.g. metric='psnr', at=25)")
                return format_targets(self, metric, at, baseline, curves, axis, snr)
            return format_comparison(self, metric, baseline, snr, curves, axis, wide)
        except ValueError as exc:
            raise InputError(f"{self.path}: {exc}") from None

    def gaps(self, baseline: str, metric: str | None = None, snr=None, curves=None, axis: str = "nominal") -> dict:
        """The mean gap of each curve to ``baseline`` over the points they share, as the last row of
        :meth:`compare` shows it: ``{curve: MetricSummary(gap, low, high, replicates)}``, the interval
        across replicates (nan without replicates); a difference, or a ratio for rates. Parameters as
        for :meth:`compare`."""
        from linksim.output.comparison import mean_gaps

        try:
            return mean_gaps(self, metric, baseline, snr, curves, axis)
        except ValueError as exc:
            raise InputError(f"{self.path}: {exc}") from None

    @classmethod
    def merged(cls, results: list, curves: str | None = None) -> "Results":
        """Several results in one, to overlay (``linksim plot A.h5 B.csv``): their curves in order, those
        matching ``curves`` (shell patterns, comma-separated) where given; a curve whose name another
        file also uses is renamed ``<file name>:<name>``. All must share one SNR convention; the first
        one's confidence and intervals name the figure."""
        from linksim.output.report import name_matches

        if not results:
            raise InputError("no results to merge")
        conventions = {r.convention for r in results}
        if len(conventions) > 1:
            raise InputError(f"{', '.join(r.path for r in results)}: SNR conventions differ ({', '.join(sorted(conventions))}); "
                             "curves on one axis need one")
        from linksim.output.replicates import replicate_groups

        counts = {}  # curve (a replicated one under its own name) -> how many files have it
        for r in results:
            for group in replicate_groups(r.names):
                counts[group] = counts.get(group, 0) + 1
        chosen = []
        for r in results:
            stem = os.path.basename(r.path) or r.attrs.get("name", "results")
            for c in r.curves:
                group = next(g for g, members in replicate_groups(r.names).items() if c.name in members)
                if curves is not None and not name_matches(group, curves):
                    continue
                name = c.name if counts[group] == 1 else f"{stem}:{c.name}"
                chosen.append(dataclasses.replace(c, name=name, index=len(chosen)))
        if not chosen:
            raise InputError(f"no curve matches {curves!r} in {', '.join(r.path for r in results)}")
        names = [c.name for c in chosen]
        if len(set(names)) < len(names):
            raise InputError("two results files of the same name (in different folders) hold curves of the same name; rename one file")
        attrs = {**results[0].attrs, "name": " + ".join(r.attrs.get("name", "?") for r in results) if len(results) > 1 else results[0].attrs["name"]}
        return cls(attrs, chosen, results[0].path if len(results) == 1 else "")

    def plot(self, out, axis: str = "nominal", metrics=None) -> str:
        """Metrics against SNR with interval bands and closed forms, to the figure file ``out``
        (``.png``, ``.pdf``, ``.svg``); returns ``out``."""
        from linksim.output.paths import figure_path
        from linksim.output.plot import plot_results

        out = figure_path(os.fspath(out))
        os.makedirs(os.path.dirname(os.path.abspath(out)), exist_ok=True)
        try:
            plot_results(self, out, metrics=metrics, axis=axis)
        except ValueError as exc:
            raise InputError(f"{self.path}: {exc}") from None
        return out

    def write_csv(self, path=None) -> str:
        """Write :meth:`to_rows` as CSV to ``path`` (default: beside the results file, ``<stem>.csv``),
        atomically; returns the path."""
        from linksim.output.report import format_csv

        path = os.fspath(path) if path is not None else os.path.splitext(self.path)[0] + ".csv"
        with open(path + ".tmp", "w") as f:
            f.write(format_csv(self.to_rows()))
        os.replace(path + ".tmp", path)
        return path

    # ------------------------------------------------------------------ integrity
    def _canonical(self) -> str:
        def point(p):
            return None if p is None else [p.index, p.snr_db, p.no, p.samples, p.chunks, p.seconds, p.stop_reason,
                                           list(p.constant_taps), {m: dict(sorted(s.items())) for m, s in sorted(p.stats.items())}]

        attrs = {k: v for k, v in sorted(self.attrs.items()) if k != "checksum"}
        curves = [[c.name, c.index, c.metrics, c.theory, [point(p) for p in c.points], point(c.partial)]
                  + ([c.signal_power, c.power_axis] if c.power_axis else []) + (["random weights"] if c.random_weights else [])
                  + ([c.counted] if c.counted else [])
                  for c in self.curves]
        return json.dumps([attrs, curves], sort_keys=True, default=str)

    def checksum(self) -> str:
        return hashlib.sha256(self._canonical().encode()).hexdigest()

    # ------------------------------------------------------------------ writing
    def write(self, path):
        """Atomically replace ``path`` with this content (sealed temp file, fsync, rename); :class:`WriteError`
        (one line, no temp file left, the previous commit kept) if the disk is full or refuses the write."""
        path = os.fspath(path)
        self.attrs["checksum"] = self.checksum()
        tmp = f"{path}.tmp-{os.getpid()}"
        try:
            self._write_hdf5(tmp)
            _seal(tmp)
            with open(tmp, "rb") as f:
                os.fsync(f.fileno())
            os.replace(tmp, path)
        except OSError as exc:
            with contextlib.suppress(OSError):
                os.remove(tmp)
            raise WriteError(f"{path}: cannot write the results ({_reason(exc)}); the file keeps its last complete commit") from None
        directory = os.open(os.path.dirname(os.path.abspath(path)), os.O_RDONLY)
        try:
            os.fsync(directory)
        finally:
            os.close(directory)

    def _write_hdf5(self, tmp):
        with h5py.File(tmp, "w", userblock_size=SEAL_BYTES) as f:
            f.attrs.update(self.attrs)
            curves = f.create_group("curves")
            for c in self.curves:
                g = curves.create_group(c.name)
                g.attrs.update({"index": c.index, "metrics": json.dumps(c.metrics), "theory": json.dumps(c.theory) if c.theory else ""})
                if c.power_axis:
                    g.attrs.update({"signal_power": c.signal_power, "power_axis": c.power_axis})
                if c.random_weights:
                    g.attrs["weights"] = "random"
                if c.counted:
                    g.attrs["counted"] = json.dumps(c.counted)
                points = g.create_group("points")
                for p in c.points:
                    _write_point(points.create_group(f"{p.index:05d}"), p)
                if c.partial is not None:
                    _write_point(g.create_group("partial"), c.partial)

    # ------------------------------------------------------------------ reading
    @classmethod
    def load(cls, path) -> "Results":
        """Read and verify a results file; ``InputError`` if it is missing, foreign or damaged.

        The whole file is checked before HDF5 parses it (its seal, see :func:`_unsealed`), and the parsed
        values are checked (counts, rates, finite numbers), so a damaged file is a one-line error, never
        a crash or a wrong number. A ``.csv`` path is read as a results CSV
        (:func:`linksim.output.results_csv.parse_results_csv`): values and intervals as written, no counts."""
        path = os.fspath(path)
        if path.lower().endswith(".csv"):
            from linksim.output.results_csv import MAX_CSV_BYTES, parse_results_csv

            attrs, curves = parse_results_csv(read_results_bytes(path, MAX_CSV_BYTES), path)
            return cls(attrs, [CurveResults(**curve) for curve in curves], path)
        content = read_results_bytes(path, MAX_RESULTS_BYTES)
        _unsealed(content, path)
        try:
            with h5py.File(io.BytesIO(content), "r") as f:
                if f.attrs.get("format") != FORMAT:
                    raise InputError(f"{path}: not a linksim results file (attribute 'format' is not {FORMAT!r})")
                attrs = {k: _plain(v) for k, v in f.attrs.items()}
                curves = []
                for name, g in f["curves"].items():
                    metrics = json.loads(g.attrs["metrics"])
                    theory = json.loads(g.attrs["theory"]) if g.attrs["theory"] else None
                    points = [_read_point(name, int(key), pg, metrics) for key, pg in sorted(g["points"].items())]
                    partial = _read_point(name, None, g["partial"], metrics) if "partial" in g else None
                    power = (float(g.attrs["signal_power"]), str(_plain(g.attrs["power_axis"]))) if "power_axis" in g.attrs else (None, "")
                    curves.append(CurveResults(name, int(g.attrs["index"]), metrics, theory, points, partial, *power,
                                               random_weights="weights" in g.attrs,
                                               counted=json.loads(g.attrs["counted"]) if "counted" in g.attrs else {}))
        except InputError:
            raise
        except OSError as exc:
            raise InputError(f"{path}: cannot read as HDF5, the file is truncated or damaged ({str(exc).splitlines()[0]})") from None
        except (KeyError, ValueError, TypeError, AttributeError, RuntimeError, json.JSONDecodeError) as exc:
            raise InputError(f"{path}: damaged linksim results file (missing or malformed {exc})") from None
        curves.sort(key=lambda c: c.index)
        results = cls(attrs, curves, path)
        if attrs.get("checksum") != results.checksum():
            raise InputError(f"{path}: checksum mismatch, the file was altered or damaged; refusing to use it")
        problem = _implausible(results)
        if problem:
            raise InputError(f"{path}: damaged linksim results file ({problem})")
        return results


SEAL_BYTES = 512  # the HDF5 user block at the start of every results file: the seal
SEAL_MAGIC = b"linksim-results-seal 1\n"
MAX_RESULTS_BYTES = 256 * 2**20  # counts only: far above any real run


def read_results_bytes(path: str, limit: int) -> bytes:
    """The bytes of the results file ``path`` (HDF5 or CSV); ``InputError`` if it is missing, not a regular
    file (a FIFO would block the read) or larger than ``limit``."""
    try:
        if not stat.S_ISREG(os.stat(path).st_mode):
            raise InputError(f"{path}: not a regular file; expected a results file")
        with open(path, "rb") as f:
            content = f.read(limit + 1)
    except FileNotFoundError:
        raise InputError(f"{path}: no such results file") from None
    except OSError as exc:
        raise InputError(f"{path}: cannot read ({_reason(exc)})") from None
    if len(content) > limit:
        raise InputError(f"{path}: larger than {limit} bytes; not a linksim results file")
    return content


def _seal(path) -> None:
    """Write the seal into the user block of the HDF5 file ``path``: the SHA-256 and length of everything after it."""
    with open(path, "r+b") as f:
        f.seek(SEAL_BYTES)
        body = f.read()
        seal = SEAL_MAGIC + f"{hashlib.sha256(body).hexdigest()} {len(body)}\n".encode()
        f.seek(0)
        f.write(seal.ljust(SEAL_BYTES, b"\0"))


def _unsealed(content: bytes, path) -> None:
    """``InputError`` unless ``content`` carries an intact seal: checked before HDF5 sees any byte of it,
    since the HDF5 library can crash the process on a damaged file."""
    if not content.startswith(SEAL_MAGIC):
        if content[:8] == b"\x89HDF\r\n\x1a\n":
            raise InputError(f"{path}: an HDF5 file without linksim's seal (written before it, or by another program); "
                             "refusing to parse an unchecked file: rerun the scenario to write it anew")
        raise InputError(f"{path}: not a linksim results file")
    header = content[len(SEAL_MAGIC):SEAL_BYTES].split(b"\n", 1)[0].split()
    body = content[SEAL_BYTES:]
    try:
        digest, length = header[0].decode("ascii"), int(header[1])
    except (IndexError, ValueError, UnicodeDecodeError):
        raise InputError(f"{path}: damaged linksim results file (its seal is unreadable)") from None
    if length != len(body) or hashlib.sha256(body).hexdigest() != digest:
        raise InputError(f"{path}: damaged linksim results file ({len(body)} bytes after the seal, {length} sealed, or their "
                         "SHA-256 differs); refusing to use it")


def _implausible(results) -> str | None:
    """What makes a checksum-correct file impossible as counts (e.g. more errors than trials), or ``None``."""
    for curve in results.curves:
        for point in curve.points + ([curve.partial] if curve.partial else []):
            where = f"curve {curve.name!r} at {point.snr_db} dB"
            numbers = [point.snr_db, point.no, point.seconds]
            if not all(isinstance(v, (int, float)) and math.isfinite(v) for v in numbers) or point.samples < 0 or point.chunks < 0:
                return f"{where}: impossible point attributes"
            for metric, kind in curve.metrics.items():
                stats = point.stats.get(metric)
                if not isinstance(stats, dict) or not all(isinstance(v, (int, float)) and math.isfinite(v) for v in stats.values()):
                    return f"{where}: metric {metric!r} has no finite counts"
                if kind == "rate" and not (0 <= stats.get("errors", -1) <= stats.get("trials", -1)):
                    return f"{where}: metric {metric!r} counts {stats.get('errors')} errors in {stats.get('trials')} trials"
                if kind == "mean" and (stats.get("count", -1) < 0 or stats.get("sum_sq", -1) < 0):
                    return f"{where}: metric {metric!r} has a negative count or sum of squares"
    return None


def _reason(exc: OSError) -> str:
    """An OSError in words: 'disk full (No space left on device)' where that is what happened."""
    text = exc.strerror or str(exc).splitlines()[0]
    return f"disk full ({text})" if exc.errno == errno.ENOSPC else text


class ResultsLock:
    """The one writer of a results file: an exclusive lock on ``<path>.lock`` (``fcntl.flock``), taken before
    a run trains or writes anything and held until it ends; a second run with the same ``--out`` is refused
    at once with a one-line error. The operating system releases it when the process dies.

    Parameters
    ----------
    path : str
        The results file.
    """

    def __init__(self, path):
        self.path = os.fspath(path) + ".lock"
        self._file = None

    def __enter__(self):
        import fcntl

        os.makedirs(os.path.dirname(os.path.abspath(self.path)) or ".", exist_ok=True)
        while True:
            handle = open(self.path, "a+")
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                handle.seek(0)
                holder = handle.read().strip() or "another process"
                handle.close()
                raise InputError(f"{self.path[:-5]}: another linksim run is writing it ({holder}); wait for it or choose "
                                 "another --out") from None
            try:
                if os.stat(self.path).st_ino == os.fstat(handle.fileno()).st_ino:
                    break  # locked the lock file that is in place (not one its last holder just removed)
            except FileNotFoundError:
                pass
            handle.close()
        handle.seek(0)
        handle.truncate()
        handle.write(f"pid {os.getpid()}\n")
        handle.flush()
        self._file = handle
        return self

    def __exit__(self, *exc):
        with contextlib.suppress(OSError):
            os.remove(self.path)
        self._file.close()  # closing releases the lock
        return False


class WriteError(LinksimError):
    """A results file could not be written (disk full, permissions): one line, exit code 2."""

    exit_code = 2


def _write_point(g, p: PointResult):
    g.attrs.update({"index": p.index, "snr_db": p.snr_db, "no": p.no, "samples": p.samples, "chunks": p.chunks,
                    "seconds": p.seconds, "stop_reason": p.stop_reason, "constant_taps": json.dumps(list(p.constant_taps))})
    for metric, stats in p.stats.items():
        g.create_group(metric).attrs.update(stats)


def _read_point(curve, index, g, metrics) -> PointResult:
    a = g.attrs
    stats = {m: {s: _plain(v) for s, v in g[m].attrs.items()} for m in metrics}
    return PointResult(
        curve, int(a["index"]) if index is None else index, float(a["snr_db"]), float(a["no"]), int(a["samples"]),
        int(a["chunks"]), float(a["seconds"]), str(a["stop_reason"]), stats, dict(metrics), json.loads(a["constant_taps"]),
    )


def load_for_resume(path, resolved: str, scenario_path: str, curves: list[str]) -> Results | None:
    """The run stored in ``path`` if it can be continued with this scenario and these ``curves``
    (names, in scenario order), ``None`` if no file.

    Raises ``InputError`` for a damaged file or one made from another scenario, seed or curve selection.
    """
    if not os.path.exists(path):
        return None
    previous = Results.load(path)
    if previous.attrs.get("scenario_sha256") != scenario_sha256(resolved):
        raise InputError(f"{path}: made from a different scenario or seed than {scenario_path}; "
                         "--resume continues only the same run (drop --resume or choose another --out)")
    if [c.name for c in previous.curves] != curves:
        raise InputError(f"{path}: holds the curves {', '.join(c.name for c in previous.curves)}, not {', '.join(curves)}; "
                         "--resume continues only the same selection of curves")
    return previous


def _curve_results(index, curve, name, power) -> CurveResults:
    """An empty record of (a replicate ``name`` of) scenario curve ``curve``: its metrics (and the engine's
    power metrics), theory and power axis."""
    metrics = {name: m.kind for m in curve.metrics for name in m.metric_names()}
    metrics.update({name: "mean" for name in curve.engine_metric_names()})
    axis = power_axis(curve)
    return CurveResults(name, index, metrics, curve.theory_reference(), signal_power=power if axis else None, power_axis=axis,
                        random_weights=curve.weights == "random", counted=curve.counted())


class ResultsWriter:
    """Keeps a run's results in memory and commits them to disk atomically.

    Parameters
    ----------
    path : str
    scenario : linksim.scenario.Scenario
    scenario_path : str
    resolved : str
        Resolved scenario YAML (``linksim.scenario.resolved_yaml``).
    previous : Results or None
        The run to continue (from :func:`load_for_resume`); ``None`` starts a new file.
    partial_interval : float
        Seconds between commits of the point in progress (finished points commit at once).
    curves : list[int] or None
        Indices of the curves this run measures (default: all).
    powers : dict (curve index, replicate) → float, or None
        The power each curve's noise refers to (its link's ``signal_power``, calibrated where
        ``measured``); recorded with the curve's axis mode.
    """

    def __init__(self, path, scenario, scenario_path: str, resolved: str, previous: Results | None = None, partial_interval: float = 2.0,
                 curves: list[int] | None = None, powers: dict | None = None):
        self.path = os.fspath(path)
        self.partial_interval = partial_interval
        self._last_partial = 0.0
        if previous is not None:
            self.results = Results.load(self.path)  # a copy the writer may change
            self.results.attrs.update({"status": "running", "finished_utc": "", "error": ""})
        else:
            self.results = Results({
                "format": FORMAT, "format_version": FORMAT_VERSION, "scenario": resolved, "scenario_sha256": scenario_sha256(resolved),
                "scenario_path": scenario_path, "name": scenario.name, "seed": scenario.seed,
                "convention": scenario.snr.convention, "confidence": scenario.montecarlo.confidence,
                "interval": scenario.montecarlo.interval, "versions": json.dumps(package_versions()),
                "git_commit": git_commit(), "started_utc": _now(), "finished_utc": "", "status": "running", "error": "",
            }, [_curve_results(i, c, name, (powers or {}).get((i, k)))
                for i, c in enumerate(scenario.curves) if curves is None or i in curves for k, name in enumerate(c.replicate_names())],
                self.path)
            if curves is not None and len(curves) < len(scenario.curves):
                self.results.attrs["curves"] = json.dumps([scenario.curves[i].name for i in curves])
            os.makedirs(os.path.dirname(os.path.abspath(self.path)) or ".", exist_ok=True)
        self.results.write(self.path)

    def add_point(self, point: PointResult):
        curve = self.results.curve(point.curve)
        curve.points.append(point)
        curve.partial = None
        self.results.write(self.path)

    def save_partial(self, point: PointResult):
        """Record the point in progress, at most every ``partial_interval`` seconds."""
        now = time.monotonic()
        if now - self._last_partial < self.partial_interval:
            return
        self._last_partial = now
        self.results.curve(point.curve).partial = point
        self.results.write(self.path)

    def close(self, status: str = "complete", error: str = ""):
        """Commit the run's end; where the file cannot be rewritten (disk full), the last commit is marked
        ``status``/``error`` in place (best effort) and the :class:`WriteError` raised."""
        self.results.attrs.update({"status": status, "error": error, "finished_utc": _now()})
        try:
            self.results.write(self.path)
        except WriteError as exc:
            self._mark_in_place("failed", error or str(exc))
            raise

    def _mark_in_place(self, status: str, error: str) -> None:
        """Set ``status`` and ``error`` of the last complete commit without rewriting the file, and reseal it."""
        try:
            committed = Results.load(self.path)
            committed.attrs.update({"status": status, "error": error, "finished_utc": _now()})
            committed.attrs["checksum"] = committed.checksum()
            with h5py.File(self.path, "r+") as f:
                for key in ("status", "error", "finished_utc", "checksum"):
                    f.attrs[key] = committed.attrs[key]
            _seal(self.path)
        except (OSError, InputError):
            pass  # the file keeps its last commit, status 'running'; the error was reported
