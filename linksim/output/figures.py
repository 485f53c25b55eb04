"""The figures of a finished run, as the scenario's components declare them.

Every run draws the metric plot (``<stem>.png``, and ``<stem>_versus_<metric>.png`` with
``figures.versus``). Beyond it, each stage or source lists in ``StageParams.figures`` what it can
show of the first curve run: ``reconstructions`` (a source of image samples: sent and received
pictures at three SNRs) and ``constellation`` (a channel on complex symbols: what enters it against
what leaves it, at the middle SNR). The scenario's ``figures`` section adds the comparison and
slice figures where all their curves ran.
"""
import os

from linksim.output.plot import comparison_grid, constellation_scatter, plot_results, reconstruction_grid, slice_grid

__all__ = ["draw_figures"]


def draw_figures(scenario, runner, results, out, curves) -> list[str]:
    """Draw the figures of results file ``out`` (curves ``curves`` ran, on ``runner``); returns their paths."""
    stem = os.path.splitext(out)[0]
    written = [stem + ".png"]
    shown = scenario.figures.metrics
    plot_results(results, written[0], metrics=shown)
    if scenario.figures.versus:
        written.append(f"{stem}_versus_{scenario.figures.versus}.png")
        plot_results(results, written[-1], metrics=shown, versus=scenario.figures.versus)
    written += _declared_figures(scenario, runner, curves[0], stem)
    written += _scenario_figures(scenario, runner, curves, stem)
    return written


def _declared_figures(scenario, runner, curve_index, stem) -> list[str]:
    """What the source and stages of curve ``curve_index`` declare they can show (each kind once)."""
    curve = scenario.curves[curve_index]
    snrs = scenario.snr.points()
    middle = float(snrs[len(snrs) // 2])
    chain = [curve.source, *curve.stages]
    written = []
    for position, params in enumerate(chain):
        for kind in params.figures:
            path = f"{stem}_{kind}.png"
            if path in written:
                continue
            if kind == "reconstructions" and len(scenario.data.sample_shape) == 3:  # [H, W, C] samples are pictures
                picks = sorted({float(snrs[0]), middle, float(snrs[-1])})
                reconstruction_grid(runner, curve_index, picks, path, title=f"{scenario.name}: {curve.name}")
            elif kind == "constellation" and position > 0:
                constellation_scatter(runner, curve_index, middle, path, sent=chain[position - 1].tap_name,
                                      received=params.tap_name, title=f"{curve.name}, {middle:g} dB")
            else:
                continue
            written.append(path)
    return written


def _scenario_figures(scenario, runner, curves, stem) -> list[str]:
    """The ``figures.slices`` and ``figures.comparison`` figures, where all their curves ran."""
    names = [c.name for c in scenario.curves]
    written = []
    slices = scenario.figures.slices
    if slices is not None and {names.index(n) for n in slices.curves} <= set(curves):
        written.append(f"{stem}_slices.png")
        slice_grid(runner, [names.index(n) for n in slices.curves], slices, written[-1], title=scenario.name)
    comparison = scenario.figures.comparison
    indices = [names.index(name) for name in comparison.curves] if comparison else []
    if comparison is not None and set(indices) <= set(curves):
        written.append(f"{stem}_comparison.png")
        comparison_grid(runner, indices, comparison.snr, written[-1], comparison.num_images, title=scenario.name)
    return written
