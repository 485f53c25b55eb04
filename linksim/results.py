"""Self-describing HDF5 results: one file per run, each point written as it finishes.

Layout (``format = "linksim-results"``, ``format_version = 1``)::

    /                 attrs: scenario (resolved YAML), scenario_path, name, seed, convention,
                             confidence, interval, versions (JSON), git_commit,
                             started_utc, finished_utc, status ("running" | "complete")
    /curves/<curve>   attrs: index, metrics (JSON {name: kind}), theory (JSON or "")
        /points/<p>   attrs: snr_db, no, samples, chunks, seconds, stop_reason
            /<metric> attrs: errors, trials (rates) or sum, sum_sq, count (means)

Every figure that ``linksim table`` prints is recomputed from these counts.
"""
import datetime
import json
import os
import subprocess
from dataclasses import dataclass

import h5py
import numpy as np

from linksim.errors import InputError
from linksim.montecarlo import PointResult

__all__ = ["ResultsWriter", "Results", "CurveResults", "FORMAT"]

FORMAT = "linksim-results"
FORMAT_VERSION = 1


def _now():
    return datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")


def package_versions() -> dict:
    from importlib.metadata import PackageNotFoundError, version

    out = {}
    for name in ("linksim", "sionna-no-rt", "tensorflow", "numpy", "scipy", "h5py", "pydantic"):
        try:
            out[name] = version(name)
        except PackageNotFoundError:
            out[name] = "not installed"
    import platform

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


class ResultsWriter:
    """Creates the results file and appends points; ``close(status)`` stamps the end."""

    def __init__(self, path, scenario, scenario_path: str, resolved: str):
        self.path = os.fspath(path)
        os.makedirs(os.path.dirname(os.path.abspath(self.path)) or ".", exist_ok=True)
        tmp = self.path + ".tmp"
        with h5py.File(tmp, "w") as f:
            f.attrs.update({
                "format": FORMAT, "format_version": FORMAT_VERSION, "scenario": resolved,
                "scenario_path": scenario_path, "name": scenario.name, "seed": scenario.seed,
                "convention": scenario.snr.convention, "confidence": scenario.montecarlo.confidence,
                "interval": scenario.montecarlo.interval, "versions": json.dumps(package_versions()),
                "git_commit": git_commit(), "started_utc": _now(), "finished_utc": "", "status": "running",
            })
            curves = f.create_group("curves")
            for i, curve in enumerate(scenario.curves):
                g = curves.create_group(curve.name)
                g.attrs["index"] = i
                g.attrs["metrics"] = json.dumps({m.metric_name: m.kind for m in curve.metrics})
                g.attrs["theory"] = json.dumps(curve.theory.model_dump()) if curve.theory else ""
                g.create_group("points")
        os.replace(tmp, self.path)

    def add_point(self, point: PointResult):
        with h5py.File(self.path, "a") as f:
            g = f["curves"][point.curve]["points"].create_group(f"{point.index:05d}")
            g.attrs.update({
                "snr_db": point.snr_db, "no": point.no, "samples": point.samples, "chunks": point.chunks,
                "seconds": point.seconds, "stop_reason": point.stop_reason,
            })
            for metric, stats in point.stats.items():
                m = g.create_group(metric)
                for stat, value in stats.items():
                    m.attrs[stat] = value

    def close(self, status: str = "complete"):
        with h5py.File(self.path, "a") as f:
            f.attrs["status"] = status
            f.attrs["finished_utc"] = _now()


@dataclass
class CurveResults:
    name: str
    metrics: dict  # name -> kind
    theory: dict | None
    points: list  # PointResult, ordered by SNR


@dataclass
class Results:
    """A results file read back."""

    path: str
    attrs: dict
    curves: list

    @property
    def convention(self) -> str:
        return self.attrs["convention"]

    @classmethod
    def load(cls, path) -> "Results":
        path = os.fspath(path)
        if not os.path.isfile(path):
            raise InputError(f"{path}: no such results file")
        try:
            with h5py.File(path, "r") as f:
                if f.attrs.get("format") != FORMAT:
                    raise InputError(f"{path}: not a linksim results file (attribute 'format' is not {FORMAT!r})")
                attrs = {k: (v.item() if isinstance(v, np.generic) else v) for k, v in f.attrs.items()}
                curves = []
                for name, g in sorted(f["curves"].items(), key=lambda kv: kv[1].attrs["index"]):
                    metrics = json.loads(g.attrs["metrics"])
                    theory = json.loads(g.attrs["theory"]) if g.attrs["theory"] else None
                    points = []
                    for key in sorted(g["points"]):
                        pg = g["points"][key]
                        stats = {m: {s: v.item() for s, v in pg[m].attrs.items()} for m in metrics}
                        a = pg.attrs
                        points.append(PointResult(
                            name, int(key), float(a["snr_db"]), float(a["no"]), int(a["samples"]), int(a["chunks"]),
                            float(a["seconds"]), str(a["stop_reason"]), stats, dict(metrics),
                        ))
                    curves.append(CurveResults(name, metrics, theory, points))
        except OSError as exc:
            raise InputError(f"{path}: cannot read as HDF5 ({str(exc).splitlines()[0]})") from None
        except (KeyError, ValueError) as exc:
            raise InputError(f"{path}: damaged linksim results file ({exc})") from None
        return cls(path, attrs, curves)
