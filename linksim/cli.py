"""The ``linksim`` command line.

Exit codes: 0 success, 2 bad input (one line on stderr, nothing written), 1 internal error,
130 interrupted. Scenarios are validated before TensorFlow is imported, so ``validate`` and
every input error are fast and quiet.
"""
import argparse
import os
import sys

from linksim import Results, __version__, load_plugins, load_scenario, shipped_scenarios
from linksim.plugins import load_entry_points
from linksim.engine.errors import InputError, LinksimError
from linksim.output.paths import figure_path, output_path
from linksim.phy.modulations import MODULATIONS
from linksim.workflow import import_tensorflow
from linksim.cli_arguments import epoch_seconds, metric_target, snr_range, snr_window

EPILOG = """\
examples:
  linksim run quickstart
  linksim run my.yaml --plugin mypackage.stages
  linksim export quickstart --curve learned-16qam --out codec.keras
  linksim losses scenarios/quickstart.yaml --out loss.png
  linksim run scenarios/ber_awgn.yaml --out results/ber_awgn.h5 --quiet
  linksim table results/ber_awgn.h5 --csv
  linksim plot results/ber_awgn.h5 --out results/ber_awgn.png
  linksim bertable --modulation qam16 --convention esno --snr 0:18:1 --csv
  linksim bertable --modulation qam16 --convention esno --snr 0:12:1 --measured --out t.h5

exit codes: 0 ok, 1 internal error, 2 bad input, 130 interrupted
"""


# ---------------------------------------------------------------------------------- commands
def _scenario(args):
    """The validated scenario of ``args.scenario`` (a file or a shipped scenario's name), plugins loaded first."""
    return load_scenario(args.scenario, plugins=args.plugin or ())


def cmd_validate(args):
    print(_scenario(args).summary())


def _resources(args):
    """Per-job Ray resources from ``--cpus-per-job`` / ``--gpus-per-job``, or ``None``."""
    given = {key: value for key, value in (("cpus", args.cpus_per_job), ("gpus", args.gpus_per_job)) if value is not None}
    return given or None


def cmd_run(args):
    results = _scenario(args).run(out=args.out, curves=args.curves, backend=args.backend, address=args.address, workers=args.workers,
                                  resume=args.resume, force=args.force, retrain=args.retrain, checkpoints=args.checkpoints,
                                  quiet=args.quiet, resources=_resources(args), wide=args.wide)
    if not args.quiet:
        print(f"# results written to {results.path} and {results.csv_path}; figures: {', '.join(results.figures)}")


def cmd_train(args):
    if args.plan:
        scenario = load_scenario(args.scenario, plugins=args.plugin or (), data_files=False)
        print("\n".join(scenario.plan(curves=args.curves, checkpoints=args.checkpoints, retrain=args.retrain,
                                      epoch_seconds=dict(args.epoch_seconds or ()))))
        return
    scenario = _scenario(args)
    scenario.train(curves=args.curves, checkpoints=args.checkpoints, retrain=args.retrain, quiet=args.quiet, backend=args.backend,
                   address=args.address, resources=_resources(args))


def cmd_losses(args):
    scenario = _scenario(args)
    if args.out is not None:
        figure_path(args.out)
    histories = scenario.losses(curves=args.curves, checkpoints=args.checkpoints)
    print("curve,stage,round,epoch,loss,head")
    for label, rows in histories.items():
        for r in rows:
            print(f"{label},{r['stage']},{r['round']},{r['epoch']},{r['loss']:.6g},{r['head']}")
    if args.out is not None:
        from linksim.output.plot import plot_losses

        os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
        plot_losses(histories, args.out, f"{scenario.name}: training loss per epoch")
        print(f"# figure written to {args.out}", file=sys.stderr)


def cmd_export(args):
    path = _scenario(args).export(args.curve, args.out, replicate=args.replicate, checkpoints=args.checkpoints)
    print(f"# {args.curve}'s learned layers written to {path} (load with linksim.load_model)")


def cmd_table(args):
    from linksim.output.report import format_csv, format_point

    results = Results.load(args.results)
    if args.snr is not None or args.metrics is not None:
        if args.snr is None or args.metrics is None or args.csv:
            raise InputError("table: --snr and --metrics go together, without --csv")
        try:
            sys.stdout.write(format_point(results, args.snr, args.metrics))
        except ValueError as exc:
            raise InputError(f"{args.results}: {exc}") from None
        return
    sys.stdout.write(format_csv(results.to_rows()) if args.csv else results.table(wide=args.wide))


def cmd_compare(args):
    results = Results.load(args.results)
    metric, target = args.at if args.at is not None else (args.metric, None)
    if args.at is not None and args.metric is not None and args.metric != metric:
        raise InputError(f"--metric {args.metric} and --at {metric}=... name two metrics; give one")
    sys.stdout.write(results.compare(args.baseline, metric=metric, at=target, snr=args.snr, curves=args.curves, axis=args.axis, wide=args.wide))


def cmd_plot(args):
    results = Results.merged([Results.load(path) for path in args.results], curves=args.curves)
    print(f"# figure written to {results.plot(args.out, axis=args.axis)}")


def cmd_bertable(args):
    if args.out:
        output_path(args.out, "table")
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
    from linksim.output.report import format_ber_table

    sys.stdout.write(table.to_csv() if args.csv else format_ber_table(table, args.modulation, args.convention))
    if args.out:
        print(f"# table written to {args.out}", file=sys.stderr)


def cmd_list(args):
    import difflib

    load_plugins(*(args.plugin or ()))
    load_entry_points()
    from linksim.engine import registry

    if args.markdown:
        from linksim.output.reference import reference_markdown

        sys.stdout.write(reference_markdown())
        return
    if args.name == "scenarios":
        from linksim.scenario.loading import description

        for name, path in shipped_scenarios().items():
            print(f"  {name:24s} {description(path)}")
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
    plugins = argparse.ArgumentParser(add_help=False)
    plugins.add_argument("--plugin", action="append", metavar="MODULE",
                         help="import this module of your own components first (repeatable), e.g. mypackage.stages")
    scenario_help = "scenario YAML file, or the name of a shipped scenario (`linksim list scenarios`)"
    cluster = argparse.ArgumentParser(add_help=False)
    cluster.add_argument("--backend", choices=["local", "ray"], default="local", help="where training jobs and chunks run (default: local)")
    cluster.add_argument("--address", help="Ray cluster address (default: start a local Ray instance)")
    cluster.add_argument("--cpus-per-job", type=float, help="Ray: CPUs (and TensorFlow threads) per training job (default: the scenario's, else 1)")
    wide = argparse.ArgumentParser(add_help=False)
    wide.add_argument("--wide", action="store_true", help="every column, however wide (default: at most 100 characters)")
    cluster.add_argument("--gpus-per-job", type=float, help="Ray: GPUs per training job, fractions share a device (default: the scenario's, else 0)")

    p = sub.add_parser("run", help="train what is untrained, run the SNR sweep, write HDF5 results and figures", parents=[plugins, cluster, wide])
    p.add_argument("scenario", help=scenario_help)
    p.add_argument("--out", help="results file (default: results/<scenario name>.h5)")
    p.add_argument("--quiet", action="store_true", help="print nothing but errors")
    p.add_argument("--resume", action="store_true", help="continue the interrupted run stored in --out (same scenario, seed and --curves)")
    p.add_argument("--force", action="store_true", help="overwrite an --out file that holds another scenario's results")
    p.add_argument("--retrain", action="store_true", help="train from scratch where linksim ships trained weights")
    p.add_argument("--curves", metavar="PATTERN", help="run only the curves whose names match this shell pattern (e.g. 'baseline-*'; several: 'baseline-*,codec'); "
                                                      "each measures what it measures in a full run; the curves they start from (init_from) are trained, not swept")
    p.add_argument("--workers", type=int, help="Ray workers of the sweep (default: the cluster's CPUs)")
    p.add_argument("--checkpoints", default="checkpoints", help="training checkpoint folder (default: checkpoints)")
    p.set_defaults(func=cmd_run)

    p = sub.add_parser("train", help="train the learned stages of a scenario's curves (resumes; reuses finished checkpoints)",
                       parents=[plugins, cluster])
    p.add_argument("--plan", action="store_true", help="print the jobs, their dependencies, the critical path and the makespan "
                   "on 1, 4 and 16 workers; train nothing (the dataset's files need not be there)")
    p.add_argument("--epoch-seconds", type=epoch_seconds, action="append", metavar="[CURVE=]SECONDS",
                   help="with --plan: estimated seconds per epoch of CURVE's jobs (no CURVE: of every other curve) where none was measured")
    p.add_argument("scenario", help=scenario_help)
    p.add_argument("--retrain", action="store_true", help="train from scratch where linksim ships trained weights")
    p.add_argument("--checkpoints", default="checkpoints", help="training checkpoint folder (default: checkpoints)")
    p.add_argument("--curves", metavar="PATTERN", help="only the curves whose names match this shell pattern (several: comma-separated), "
                   "and the curves they start from (init_from)")
    p.add_argument("--quiet", action="store_true")
    p.set_defaults(func=cmd_train)

    p = sub.add_parser("losses", help="the training loss per epoch of a scenario's curves, from their checkpoints (CSV; --out: a figure)",
                       parents=[plugins])
    p.add_argument("scenario", help=scenario_help)
    p.add_argument("--curves", metavar="PATTERN", help="only the curves whose names match this shell pattern (several: comma-separated)")
    p.add_argument("--checkpoints", default="checkpoints", help="training checkpoint folder (default: checkpoints)")
    p.add_argument("--out", help="figure file (.png, .pdf or .svg)")
    p.set_defaults(func=cmd_losses)

    p = sub.add_parser("validate", help="check a scenario file without running it", parents=[plugins])
    p.add_argument("scenario", help=scenario_help)
    p.set_defaults(func=cmd_validate)

    p = sub.add_parser("export", help="write a trained curve's learned layers as a Keras 3 .keras archive", parents=[plugins])
    p.add_argument("scenario", help=scenario_help)
    p.add_argument("--curve", required=True, help="the curve whose learned layers to export")
    p.add_argument("--replicate", type=int, default=0, help="which trained replicate (default 0)")
    p.add_argument("--out", required=True, help="the .keras file to write")
    p.add_argument("--checkpoints", default="checkpoints", help="training checkpoint folder (default: checkpoints)")
    p.set_defaults(func=cmd_export)

    p = sub.add_parser("table", help="print the table of a results file (HDF5, or its CSV)", parents=[wide])
    p.add_argument("results")
    p.add_argument("--csv", action="store_true", help="long-format CSV: " + "curve,snr_db,convention,metric,value,ci_low,ci_high,count")
    p.add_argument("--snr", type=float, help="with --metrics: one SNR point, every curve against the matching metrics")
    p.add_argument("--metrics", metavar="PATTERN", help="with --snr: metrics whose names match this shell pattern (or comma-separated patterns), e.g. 'dice_*' or 'psnr,ber'")
    p.set_defaults(func=cmd_table)

    p = sub.add_parser("compare", help="a metric of every curve side by side with its gap to a baseline curve (difference, or ratio "
                                       "for rates) and the mean gaps; or with --at, the SNR each curve needs to reach a target",
                       parents=[wide])
    p.add_argument("results", help="results file (HDF5, or its CSV)")
    p.add_argument("--metric", help="metric to compare (default: the first one the curves share)")
    p.add_argument("--at", type=metric_target, metavar="METRIC=VALUE", help="the SNR each curve needs to reach this value (e.g. psnr=25, "
                                                                      "ber=1e-4), interpolated, and its gap in dB to the baseline")
    p.add_argument("--axis", choices=["nominal", "effective"], default="nominal",
                   help="SNR axis: the sweep's nominal SNR, or each point's measured effective SNR (compares at equal transmit power)")
    p.add_argument("--baseline", required=True, help="curve the differences are taken against")
    p.add_argument("--snr", type=snr_window, metavar="LOW:HIGH", help="only the SNR points in [LOW, HIGH] dB (default: all)")
    p.add_argument("--curves", metavar="PATTERN", help="only the curves whose names match this shell pattern, e.g. 'codec-*' or 'codec-*,ae' (and the baseline)")
    p.set_defaults(func=cmd_compare)

    p = sub.add_parser("plot", help="plot metrics versus SNR with interval bands and closed forms; several files: overlaid")
    p.add_argument("results", nargs="+", help="results files (HDF5 or CSV); a curve whose name two files use gets its file's name")
    p.add_argument("--curves", metavar="PATTERN", help="only the curves whose names match this shell pattern (several: comma-separated)")
    p.add_argument("--out", required=True, help="figure file (.png, .pdf or .svg)")
    p.add_argument("--axis", choices=["nominal", "effective"], default="nominal",
                   help="x axis: the nominal SNR, or each point's measured effective SNR")
    p.set_defaults(func=cmd_plot)

    p = sub.add_parser("bertable", help="BER-versus-SNR table of an uncoded modulation over AWGN")
    p.add_argument("--modulation", required=True, choices=list(MODULATIONS))
    p.add_argument("--convention", required=True, choices=["esno", "ebno"])
    p.add_argument("--snr", required=True, type=snr_range, metavar="START:STOP:STEP", help="SNR points in dB, STOP included")
    p.add_argument("--measured", action="store_true", help="measure by Monte Carlo (default: exact closed form)")
    p.add_argument("--target-errors", type=int, default=1000, metavar="N", help="bit errors per measured point (default 1000)")
    p.add_argument("--max-bits", type=int, default=10**9, metavar="N", help="bit budget per measured point (default 1e9)")
    p.add_argument("--seed", type=int, default=0, help="seed of the measurement (default 0)")
    p.add_argument("--out", help="write the table to this HDF5 file")
    p.add_argument("--csv", action="store_true", help="CSV: snr_db,ber,ci_low,ci_high,bit_errors,bits,source")
    p.set_defaults(func=cmd_bertable)

    p = sub.add_parser("list", help="the registered components; with NAME, its parameters (types, defaults, limits) and output tap; "
                                    "'list scenarios': the shipped scenarios", parents=[plugins])
    p.add_argument("name", nargs="?", help="a component's registered name, e.g. rayleigh; or 'scenarios'")
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
