"""The ``linksim`` command line.

Exit codes: 0 success, 2 bad input (one line on stderr, nothing written), 1 internal error,
130 interrupted. Scenarios are validated before TensorFlow is imported, so ``validate`` and
every input error are fast and quiet.
"""
import argparse
import contextlib
import os
import sys

from linksim import __version__
from linksim.engine.errors import InputError, LinksimError
from linksim.phy.modulations import MODULATIONS

EPILOG = """\
examples:
  linksim run scenarios/quickstart.yaml
  linksim train scenarios/quickstart.yaml
  linksim losses scenarios/quickstart.yaml --out loss.png
  linksim run scenarios/ber_awgn.yaml --out results/ber_awgn.h5 --quiet
  linksim table results/ber_awgn.h5 --csv
  linksim plot results/ber_awgn.h5 --out results/ber_awgn.png
  linksim bertable --modulation qam16 --convention esno --snr 0:18:1 --csv
  linksim bertable --modulation qam16 --convention esno --snr 0:12:1 --measured --out t.h5

exit codes: 0 ok, 1 internal error, 2 bad input, 130 interrupted
"""


@contextlib.contextmanager
def _quiet_stderr():
    """Silence native log lines that TensorFlow/XLA print on import (C-level stderr)."""
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
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    with _quiet_stderr():
        import sionna.phy  # noqa: F401
        import tensorflow as tf

        tf.constant(0)  # device initialisation logs too
        tf.get_logger().setLevel("ERROR")  # retracing notes; the real-part warning of complex-cast gradients


def _output_path(path: str, what: str) -> str:
    if os.path.isdir(path):
        raise InputError(f"{path}: is a directory; expected a {what} file path")
    parent = os.path.dirname(os.path.abspath(path))
    probe = parent
    while not os.path.exists(probe):
        probe = os.path.dirname(probe)
    if not os.path.isdir(probe) or not os.access(probe, os.W_OK):
        raise InputError(f"{path}: cannot write here ({probe} is not a writable directory)")
    return path


# ---------------------------------------------------------------------------------- commands
def _load_scenario(path):
    """The validated scenario; a stage check that constructs a Sionna block (a code's limits)
    imports TensorFlow, whose native log lines are silenced here as on every import."""
    from linksim.scenario import load_scenario

    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    with _quiet_stderr():
        return load_scenario(path)


def cmd_validate(args):
    scenario = _load_scenario(args.scenario)
    points = len(scenario.snr.points())
    print(f"{args.scenario}: ok — scenario '{scenario.name}', {len(scenario.curves)} curve(s), {points} SNR point(s) ({scenario.snr.convention})")


def cmd_run(args):
    from linksim.output.results import load_for_resume
    from linksim.scenario import resolved_yaml

    scenario = _load_scenario(args.scenario)
    out = _results_path(args, scenario)
    _check_backend_options(args)
    resolved = resolved_yaml(scenario)
    curves = _selected_curves(scenario, args.curves, args.scenario)
    # Refuse a mismatched or damaged file before anything runs or is written.
    previous = load_for_resume(out, resolved, args.scenario, scenario.result_names(curves)) if args.resume else None
    import_tensorflow()
    _train(scenario, curves, args.checkpoints, args.quiet, args.retrain)
    executor = _executor(args, scenario, resolved)
    _sweep(args, scenario, resolved, executor, out, curves, previous)
    _export(args, scenario, executor.runner, out, curves)


def _results_path(args, scenario) -> str:
    """Where ``run`` writes: an ``.h5`` path that holds no other scenario's results (unless ``--force``)."""
    out = _output_path(args.out or os.path.join("results", f"{scenario.name}.h5"), "results")
    if not out.lower().endswith(".h5"):
        raise InputError(f"--out {out}: the results file must end in .h5 (its CSV and figures are written beside it)")
    if os.path.exists(out) and not args.resume and not args.force:
        from linksim.output.results import Results

        try:
            previous = Results.load(out).attrs.get("name")
        except InputError:
            previous = None
        if previous != scenario.name:
            raise InputError(f"{out}: holds {'the results of scenario ' + repr(previous) if previous else 'something else than linksim results'}"
                             f", not of {scenario.name!r}; choose another --out or pass --force to overwrite it")
    return out


def _check_backend_options(args):
    if args.address and args.backend != "ray":
        raise InputError("--address needs --backend ray")
    if args.workers is not None and args.workers < 1:
        raise InputError(f"--workers must be at least 1, got {args.workers}")


def _train(scenario, curves, checkpoints, quiet, retrain):
    """Train (or resume, or reuse) the checkpoints of the chosen curves, progress on stdout; shipped
    weights stand in for a missing checkpoint unless ``retrain``."""
    from linksim.output.training_log import TrainingLog
    from linksim.run.training import train_curves

    train_curves(scenario, curves, checkpoints, TrainingLog(None if quiet else sys.stdout), retrain)


def _executor(args, scenario, resolved):
    """Where the chunks run, with every chosen curve's link built and holding its weights (so that a
    missing piece fails before the results file is written)."""
    from linksim.run.montecarlo import LocalExecutor

    if args.backend == "ray":
        from linksim.run.ray_executor import RayExecutor

        with _quiet_stderr():
            executor = RayExecutor(scenario, resolved, address=args.address, workers=args.workers, checkpoints=args.checkpoints,
                                   shipped=not args.retrain)
    else:
        executor = LocalExecutor(scenario, args.checkpoints, shipped=not args.retrain)
    try:
        for curve_index in _selected_curves(scenario, args.curves, args.scenario):
            for replicate in range(scenario.curves[curve_index].replicates):
                executor.runner.curve(curve_index, replicate)
    except BaseException:
        executor.close()
        raise
    return executor


def _sweep(args, scenario, resolved, executor, out, curves, previous):
    """Run the sweep into the results file ``out``, closed as complete, interrupted or failed."""
    from linksim.output.report import LiveTable
    from linksim.output.results import ResultsWriter
    from linksim.run.montecarlo import run_scenario

    powers = {(c, k): executor.runner.curve(c, k).link.signal_power for c in curves for k in range(scenario.curves[c].replicates)}
    writer = ResultsWriter(out, scenario, os.path.abspath(args.scenario), resolved, previous=previous,
                           partial_interval=scenario.montecarlo.checkpoint_seconds, curves=curves, powers=powers)
    mc = scenario.montecarlo
    table = LiveTable(scenario.snr.convention, mc.confidence, mc.interval, quiet=args.quiet, shown=scenario.figures.metrics)
    try:
        run_scenario(scenario, executor, on_point=writer.add_point, on_chunk=writer.save_partial, reporter=table, resume=previous,
                     curves=curves)
    except KeyboardInterrupt:
        writer.close("interrupted")
        raise
    except BaseException as exc:
        writer.close("failed", error=str(exc).splitlines()[0] if str(exc) else type(exc).__name__)
        raise
    finally:
        executor.close()
    writer.close("complete")


def _export(args, scenario, runner, out, curves):
    """The CSV export and the figures of a finished results file."""
    from linksim.output.figures import draw_figures
    from linksim.output.results import Results

    results = Results.load(out)
    table = _csv_export(results, out)
    figures = draw_figures(scenario, runner, results, out, curves)
    if not args.quiet:
        print(f"# results written to {out} and {table}; figures: {', '.join(figures)}")


def _csv_export(results, out):
    """``<stem>.csv``: the ``linksim table --csv`` export of the finished results file ``out``."""
    from linksim.output.report import format_csv, long_rows

    path = os.path.splitext(out)[0] + ".csv"
    with open(path + ".tmp", "w") as f:
        f.write(format_csv(long_rows(results)))
    os.replace(path + ".tmp", path)
    return path


def _selected_curves(scenario, pattern, scenario_path) -> list[int]:
    """Indices of the curves whose names match the shell ``pattern`` or one of its comma-separated
    alternatives (all if ``None``)."""
    from linksim.output.report import name_matches

    if pattern is None:
        return list(range(len(scenario.curves)))
    chosen = [c for c, curve in enumerate(scenario.curves) if name_matches(curve.name, pattern)]
    if not chosen:
        raise InputError(f"--curves {pattern!r} matches no curve of {scenario_path} (have: {', '.join(c.name for c in scenario.curves)})")
    return chosen


def cmd_train(args):
    scenario = _load_scenario(args.scenario)
    trainable = [c for c in _selected_curves(scenario, args.curves, args.scenario) if scenario.curves[c].training is not None]
    if not trainable:
        raise InputError(f"{args.scenario}: no{' chosen' if args.curves else ''} curve has a 'training' section")
    import_tensorflow()
    _train(scenario, trainable, args.checkpoints, args.quiet, args.retrain)


def cmd_losses(args):
    from linksim.run.checkpoints import loss_history

    scenario = _load_scenario(args.scenario)
    chosen = [c for c in _selected_curves(scenario, args.curves, args.scenario) if scenario.curves[c].training is not None]
    if not chosen:
        raise InputError(f"{args.scenario}: no{' chosen' if args.curves else ''} curve has a 'training' section")
    if args.out is not None:
        _figure_path(args.out)
    histories = {}
    for c in chosen:
        curve = scenario.curves[c]
        points = [float(p) for p in scenario.snr.points()] if curve.training.per_point else [None]
        for replicate, name in enumerate(curve.replicate_names()):
            for point in points:
                rows = loss_history(scenario, curve, args.checkpoints, point, replicate)
                label = name if point is None else f"{name} @ {point:g} dB"
                if rows is None:
                    print(f"# {label}: no checkpoint under {args.checkpoints}")
                elif rows:
                    histories[label] = rows
    if not histories:
        raise InputError(f"{args.scenario}: no training checkpoint with finished epochs under {args.checkpoints} "
                         "for the chosen curves; run `linksim train` first")
    print("curve,stage,round,epoch,loss,head")
    for label, rows in histories.items():
        for r in rows:
            print(f"{label},{r['stage']},{r['round']},{r['epoch']},{r['loss']:.6g},{r['head']}")
    if args.out is not None:
        from linksim.output.plot import plot_losses

        os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
        plot_losses(histories, args.out, f"{scenario.name}: training loss per epoch")
        print(f"# figure written to {args.out}", file=sys.stderr)


def _figure_path(path):
    out = _output_path(path, "figure")
    if not out.lower().endswith((".png", ".pdf", ".svg")):
        raise InputError(f"{out}: expected a .png, .pdf or .svg file name")
    return out


def cmd_table(args):
    from linksim.output.report import format_csv, format_point, format_results, long_rows
    from linksim.output.results import Results

    results = Results.load(args.results)
    if args.snr is not None or args.metrics is not None:
        if args.snr is None or args.metrics is None or args.csv:
            raise InputError("table: --snr and --metrics go together, without --csv")
        try:
            sys.stdout.write(format_point(results, args.snr, args.metrics))
        except ValueError as exc:
            raise InputError(f"{args.results}: {exc}") from None
        return
    sys.stdout.write(format_csv(long_rows(results)) if args.csv else format_results(results))


def cmd_compare(args):
    from linksim.output.comparison import format_comparison, format_targets
    from linksim.output.results import Results

    results = Results.load(args.results)
    try:
        if args.at is not None:
            metric, target = args.at
            if args.metric is not None and args.metric != metric:
                raise InputError(f"--metric {args.metric} and --at {metric}=... name two metrics; give one")
            sys.stdout.write(format_targets(results, metric, target, args.baseline, args.curves, args.axis, args.snr))
        else:
            sys.stdout.write(format_comparison(results, args.metric, args.baseline, args.snr, args.curves, args.axis))
    except ValueError as exc:
        raise InputError(f"{args.results}: {exc}") from None


def _target(text: str):
    """``METRIC=VALUE`` of ``compare --at``."""
    import math

    name, _, value = text.partition("=")
    try:
        number = float(value)
    except ValueError:
        number = float("nan")
    if not name or not math.isfinite(number):
        raise argparse.ArgumentTypeError(f"expected METRIC=VALUE (e.g. psnr=25 or ber=1e-4), got {text!r}")
    return name, number


def cmd_plot(args):
    from linksim.output.plot import plot_results
    from linksim.output.results import Results

    results = Results.load(args.results)
    out = _figure_path(args.out)
    os.makedirs(os.path.dirname(os.path.abspath(out)), exist_ok=True)
    try:
        plot_results(results, out, axis=args.axis)
    except ValueError as exc:
        raise InputError(f"{args.results}: {exc}") from None
    print(f"# figure written to {out}")


def _snr_window(text: str):
    import numpy as np

    try:
        low, high = (float(v) for v in text.split(":"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected LOW:HIGH in dB, got {text!r}") from None
    if not np.all(np.isfinite([low, high])) or high < low:
        raise argparse.ArgumentTypeError(f"expected finite LOW ≤ HIGH, got {text!r}") from None
    return low, high


def _snr_range(text: str):
    import numpy as np

    from linksim.phy.snr import snr_grid

    try:
        start, stop, step = (float(v) for v in text.split(":"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected START:STOP:STEP in dB, got {text!r}") from None
    if not all(np.isfinite([start, stop, step])) or step <= 0 or stop < start or (stop - start) / step > 10_000:
        raise argparse.ArgumentTypeError(f"expected finite START ≤ STOP and 0 < STEP (at most 10000 points), got {text!r}")
    return snr_grid(start, stop, step)


def cmd_bertable(args):
    if args.out:
        _output_path(args.out, "table")
    if args.target_errors < 1 or args.max_bits < 1:
        raise InputError("--target-errors and --max-bits must be positive")
    import_tensorflow()
    from linksim.phy.ber_table import BerTable

    if args.measured:
        def progress(row):
            if not args.csv:
                print(f"# measured {row['snr_db']:g} dB: {row['bit_errors']} errors in {row['bits']} bits ({row['seconds']:.1f} s)", file=sys.stderr)

        table = BerTable.measure(args.modulation, args.convention, args.snr, target_errors=args.target_errors,
                                 max_bits=args.max_bits, seed=args.seed, progress=progress)
    else:
        table = BerTable.closed_form(args.modulation, args.convention, args.snr)
    if args.out:
        table.save(args.out)
    if args.csv:
        sys.stdout.write(table.to_csv())
    else:
        from linksim.engine.statistics import CONVENTION_LABELS

        label = CONVENTION_LABELS[args.convention]
        print(f"# {args.modulation}, uncoded, hard decisions, AWGN; {label} in dB")
        print(f"# {label:>7} | {'BER':>10} | {'95% interval':>23} | {'errors':>9} | {'bits':>12} | source")
        for p in range(len(table.snr_db)):
            r = table.row(p)
            ci = "-" if r["source"] == "closed_form" else f"[{r['ci_low']:.3e}, {r['ci_high']:.3e}]"
            print(f"  {r['snr_db']:7.2f} | {r['ber']:10.3e} | {ci:>23} | {r['bit_errors']:9d} | {r['bits']:12d} | {r['source']}")
    if args.out:
        print(f"# table written to {args.out}", file=sys.stderr)


def cmd_list(args):
    import difflib

    import linksim.components  # noqa: F401  (registers every component)
    from linksim.engine import registry

    if args.markdown:
        sys.stdout.write(reference_markdown())
        return
    if args.name is None:
        for kind, entries in registry.catalogue().items():
            print(f"{kind}s:")
            for name, summary in entries:
                print(f"  {name:20s} {summary}")
        return
    found = registry.find(args.name)
    if not found:
        every = [n for kind in registry.KINDS for n in registry.names(kind)]
        close = difflib.get_close_matches(args.name, every, n=3)
        raise InputError(f"list: no component {args.name!r}" + (f"; did you mean {', '.join(map(repr, close))}?" if close else
                                                                  " (`linksim list` shows them all)"))
    for kind, cls in found:
        print(f"{kind} {args.name}: {registry.summary(cls)}")
        tap = getattr(cls, "tap_default", None)
        if kind in ("source", "stage") and tap is not None:
            print(f"  output tap: {tap if isinstance(tap, str) else 'depends on the parameters'} (rename with 'tap:')")
        rows = registry.parameters(kind, cls)
        if not rows:
            print("  no parameters")
        for name, annotation, default, limits in rows:
            print(f"  {name}: {annotation} = {default}" + (f"  ({limits})" if limits else ""))


def reference_markdown() -> str:
    """Every registered component with its summary, output tap and parameters, as Markdown
    (``docs/reference.md`` is this text; ``linksim list --markdown`` prints it)."""
    import linksim.components  # noqa: F401  (registers every component)
    from linksim.engine import registry

    lines = ["# Component reference", "",
             "Generated by `linksim list --markdown` from the registry and the schema that validates scenarios "
             "(a test keeps this file current). Types, defaults and limits are the scenario parameters'.", ""]
    for kind in registry.KINDS:
        lines += [f"## {kind}s", ""]
        for name in registry.names(kind):
            cls = registry.find(name)[[k for k, _ in registry.find(name)].index(kind)][1]
            lines += [f"### `{name}`", "", registry.summary(cls), ""]
            tap = getattr(cls, "tap_default", None)
            if kind in ("source", "stage") and isinstance(tap, str):
                lines += [f"Output tap: `{tap}`.", ""]
            rows = registry.parameters(kind, cls)
            if rows:
                lines += ["| parameter | type | default | limits |", "|---|---|---|---|"]
                cells = ([f"`{n}`", f"`{a}`", f"`{d}`", lim] for n, a, d, lim in rows)
                lines += ["| " + " | ".join(cell.replace("|", "\\|") for cell in row) + " |" for row in cells]
                lines.append("")
    return "\n".join(lines).rstrip() + "\n"


# ---------------------------------------------------------------------------------- parser
class _Parser(argparse.ArgumentParser):
    """argparse with one-line errors: ``linksim: error: …`` and exit code 2, no usage block."""

    def error(self, message):
        self.exit(2, f"linksim: error: {self.prog.removeprefix('linksim').strip() + ': ' if self.prog != 'linksim' else ''}{message}"
                     f" (see `{self.prog} --help`)\n")


def build_parser():
    parser = _Parser(
        prog="linksim", description="Monte Carlo simulation of digital (semantic) communication links on Sionna.",
        epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"linksim {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND", parser_class=_Parser)

    p = sub.add_parser("run", help="train what is untrained, run the SNR sweep, write HDF5 results and figures")
    p.add_argument("scenario", help="scenario YAML file")
    p.add_argument("--out", help="results file (default: results/<scenario name>.h5)")
    p.add_argument("--quiet", action="store_true", help="print nothing but errors")
    p.add_argument("--resume", action="store_true", help="continue the interrupted run stored in --out (same scenario, seed and --curves)")
    p.add_argument("--force", action="store_true", help="overwrite an --out file that holds another scenario's results")
    p.add_argument("--retrain", action="store_true", help="train from scratch where linksim ships trained weights")
    p.add_argument("--curves", metavar="PATTERN", help="run only the curves whose names match this shell pattern (e.g. 'baseline-*'; several: 'baseline-*,codec'); "
                                                      "each measures what it measures in a full run; the curves they start from (init_from) are trained, not swept")
    p.add_argument("--backend", choices=["local", "ray"], default="local", help="where chunks run (default: local)")
    p.add_argument("--address", help="Ray cluster address (default: start a local Ray instance)")
    p.add_argument("--workers", type=int, help="Ray workers (default: the cluster's CPUs)")
    p.add_argument("--checkpoints", default="checkpoints", help="training checkpoint folder (default: checkpoints)")
    p.set_defaults(func=cmd_run)

    p = sub.add_parser("train", help="train the learned stages of a scenario's curves (resumes; reuses finished checkpoints)")
    p.add_argument("scenario")
    p.add_argument("--retrain", action="store_true", help="train from scratch where linksim ships trained weights")
    p.add_argument("--checkpoints", default="checkpoints", help="training checkpoint folder (default: checkpoints)")
    p.add_argument("--curves", metavar="PATTERN", help="only the curves whose names match this shell pattern (several: comma-separated), "
                   "and the curves they start from (init_from)")
    p.add_argument("--quiet", action="store_true")
    p.set_defaults(func=cmd_train)

    p = sub.add_parser("losses", help="the training loss per epoch of a scenario's curves, from their checkpoints (CSV; --out: a figure)")
    p.add_argument("scenario")
    p.add_argument("--curves", metavar="PATTERN", help="only the curves whose names match this shell pattern (several: comma-separated)")
    p.add_argument("--checkpoints", default="checkpoints", help="training checkpoint folder (default: checkpoints)")
    p.add_argument("--out", help="figure file (.png, .pdf or .svg)")
    p.set_defaults(func=cmd_losses)

    p = sub.add_parser("validate", help="check a scenario file without running it")
    p.add_argument("scenario")
    p.set_defaults(func=cmd_validate)

    p = sub.add_parser("table", help="print the table of a results file")
    p.add_argument("results")
    p.add_argument("--csv", action="store_true", help="long-format CSV: " + "curve,snr_db,convention,metric,value,ci_low,ci_high,count")
    p.add_argument("--snr", type=float, help="with --metrics: one SNR point, every curve against the matching metrics")
    p.add_argument("--metrics", metavar="PATTERN", help="with --snr: metrics whose names match this shell pattern (or comma-separated patterns), e.g. 'dice_*' or 'psnr,ber'")
    p.set_defaults(func=cmd_table)

    p = sub.add_parser("compare", help="a metric of every curve side by side with its gap to a baseline curve (difference, or ratio "
                                       "for rates) and the mean gaps; or with --at, the SNR each curve needs to reach a target")
    p.add_argument("results", help="HDF5 results file")
    p.add_argument("--metric", help="metric to compare (default: the first one the curves share)")
    p.add_argument("--at", type=_target, metavar="METRIC=VALUE", help="the SNR each curve needs to reach this value (e.g. psnr=25, "
                                                                      "ber=1e-4), interpolated, and its gap in dB to the baseline")
    p.add_argument("--axis", choices=["nominal", "effective"], default="nominal",
                   help="SNR axis: the sweep's nominal SNR, or each point's measured effective SNR (compares at equal transmit power)")
    p.add_argument("--baseline", required=True, help="curve the differences are taken against")
    p.add_argument("--snr", type=_snr_window, metavar="LOW:HIGH", help="only the SNR points in [LOW, HIGH] dB (default: all)")
    p.add_argument("--curves", metavar="PATTERN", help="only the curves whose names match this shell pattern, e.g. 'codec-*' or 'codec-*,ae' (and the baseline)")
    p.set_defaults(func=cmd_compare)

    p = sub.add_parser("plot", help="plot metrics versus SNR with interval bands and closed forms")
    p.add_argument("results")
    p.add_argument("--out", required=True, help="figure file (.png, .pdf or .svg)")
    p.add_argument("--axis", choices=["nominal", "effective"], default="nominal",
                   help="x axis: the nominal SNR, or each point's measured effective SNR")
    p.set_defaults(func=cmd_plot)

    p = sub.add_parser("bertable", help="BER-versus-SNR table of an uncoded modulation over AWGN")
    p.add_argument("--modulation", required=True, choices=list(MODULATIONS))
    p.add_argument("--convention", required=True, choices=["esno", "ebno"])
    p.add_argument("--snr", required=True, type=_snr_range, metavar="START:STOP:STEP", help="SNR points in dB, STOP included")
    p.add_argument("--measured", action="store_true", help="measure by Monte Carlo (default: exact closed form)")
    p.add_argument("--target-errors", type=int, default=1000, metavar="N", help="bit errors per measured point (default 1000)")
    p.add_argument("--max-bits", type=int, default=10**9, metavar="N", help="bit budget per measured point (default 1e9)")
    p.add_argument("--seed", type=int, default=0, help="seed of the measurement (default 0)")
    p.add_argument("--out", help="write the table to this HDF5 file")
    p.add_argument("--csv", action="store_true", help="CSV: snr_db,ber,ci_low,ci_high,bit_errors,bits,source")
    p.set_defaults(func=cmd_bertable)

    p = sub.add_parser("list", help="the registered components; with NAME, its parameters (types, defaults, limits) and output tap")
    p.add_argument("name", nargs="?", help="a component's registered name, e.g. rayleigh")
    p.add_argument("--markdown", action="store_true", help="every component with its parameters as Markdown (docs/reference.md)")
    p.set_defaults(func=cmd_list)
    return parser


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    try:
        args.func(args)
    except LinksimError as exc:
        print(f"linksim: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("linksim: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # output piped into e.g. `head`, which stopped reading
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except Exception as exc:  # an internal error: one line unless debugging
        if os.environ.get("LINKSIM_DEBUG"):
            raise
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        print(f"linksim: internal error: {type(exc).__name__}: {first} (set LINKSIM_DEBUG=1 for the traceback)", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
