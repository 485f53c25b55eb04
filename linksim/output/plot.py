"""Metric-versus-SNR figures from a results file."""
import numpy as np

from linksim.engine.statistics import CONVENTION_LABELS, closed_form_ber, point_summary

__all__ = ["plot_results", "reconstruction_grid", "comparison_grid", "slice_grid", "constellation_scatter", "plot_losses"]


METRIC_TITLES = {"psnr": "PSNR [dB]", "ssim": "SSIM", "mse": "MSE", "ber": "BER", "bler": "BLER", "ser": "SER",
                 "tx_power": "transmit power (measured)", "image_loss": "share of images lost", "iterations": "decoder iterations (mean)",
                 "latent_mse": "latent MSE", "dice": "Dice", "miou_w": "weighted mean IoU",
                 "power": "power", "noise_power": "noise power", "effective_snr_db": "effective SNR [dB]"}
PANEL_COLUMNS = 2  # metric panels per row: about 17 cm wide, an A4 page's text width or a notebook cell


def metric_title(name: str) -> str:
    """A metric's panel title: its usual name and unit (``psnr`` → ``PSNR [dB]``), else its name in words."""
    return METRIC_TITLES.get(name, name.replace("_", " "))


def closed_form_label(theories: list) -> str:
    """What a closed-form reference is, for a legend: ``closed form: uncoded 16-QAM, AWGN``; references
    whose values are equal (BPSK and QPSK against Eb/N0) share one label, ``uncoded BPSK = QPSK``."""
    import re

    if all(t.get("type") == "tabulated" for t in theories):
        return "closed form (values from the CSV)"
    described = [t for t in theories if t.get("type") != "tabulated"]
    channel = "Rayleigh" if described[0].get("type") == "rayleigh_ber" else "AWGN"
    names = []
    for theory in described:
        for modulation in [theory.get("modulation", "?")] + theory.get("equal_to", []):
            found = re.fullmatch(r"([a-z]+?)(\d+)", modulation)
            name = f"{found.group(2)}-{found.group(1).upper()}" if found else modulation.upper()
            names += [name + (", natural labels" if theory.get("labelling") == "natural" else "")]
    return f"closed form: uncoded {' = '.join(dict.fromkeys(names))}, {channel}"


def plot_results(results, out_path, metrics=None, versus=None, axis="nominal"):
    """One panel per metric on a grid of :data:`PANEL_COLUMNS` columns: each curve with its interval
    band; on the BER panel each distinct closed form once, dashed and labelled as what it is
    (``uncoded 64-QAM, AWGN``: for a coded curve the uncoded bound, not the curve's own).

    A metric with ``<name>_min`` / ``<name>_max`` companions (resamplings) also shows that range as
    a lighter band in its own panel. Rate metrics use a logarithmic axis. ``metrics`` limits the
    panels to these names; ``versus`` puts that measured metric (its value at each point) on the
    horizontal axis instead of the SNR (logarithmic for a rate). ``axis="effective"`` puts each point at
    its measured effective SNR (equal transmit power lines up). The measured channel-input power
    (``tx_power``) is a panel like any metric. A replicated curve is drawn as the mean over its
    replicates with the interval across them (the training spread) as its band. Written with
    matplotlib's Agg backend (no display). Returns each panel's title and legend labels, in order.
    """
    import math

    from linksim.output.report import point_effective_snr
    from linksim.output.replicates import REPLICATE, replicate_groups

    groups = {members[0]: (group, members) for group, members in replicate_groups([c.name for c in results.curves]).items()
              if len(members) > 1}

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    a = results.attrs
    every = list(dict.fromkeys(m for c in results.curves for m in c.metrics))
    banded = {m for m in every if f"{m}_min" in every and f"{m}_max" in every}  # bands over resamplings
    metric_names = [m for m in every if not any(m in (f"{b}_min", f"{b}_max") for b in banded) and (metrics is None or m in metrics)]
    metric_names = [m for m in metric_names if m != versus]
    if not metric_names:
        raise ValueError("no metric to plot")
    columns = min(PANEL_COLUMNS, len(metric_names))
    rows = math.ceil(len(metric_names) / columns)
    width = 8.6 if columns > 1 else 6.0  # inches: about 22 / 15 cm, a page's or a notebook cell's width
    fig, axes = plt.subplots(rows, columns, figsize=(width, 3.0 * rows + 1.2), squeeze=False, layout="constrained")
    for ax in axes.flat[len(metric_names):]:
        ax.set_visible(False)
    for ax, metric in zip(axes.flat, metric_names):
        kind = "rate"
        references = []  # (theory, snr grid) of the curves on this panel that have a closed form
        for i, curve in enumerate(results.curves):
            if metric not in curve.metrics or not curve.points:
                continue
            kind = curve.metrics[metric]
            colour = f"C{i % 10}"
            if curve.name in groups and versus is None and axis == "nominal":
                _replicate_line(ax, results, *groups[curve.name], metric, kind, colour)
                continue
            if REPLICATE.match(curve.name) and versus is None and axis == "nominal":
                continue  # drawn with its group
            snr = np.array([p.snr_db for p in curve.points])
            if axis == "effective":
                effective = [point_effective_snr(curve, p, a["confidence"], a["interval"]) for p in curve.points]
                if any(e is None for e in effective):
                    raise ValueError(f"curve {curve.name!r} has no measured channel-input power: --axis effective needs it")
                snr = np.array([e.value for e in effective])
            if versus is not None:
                if versus not in curve.metrics:
                    continue
                snr = np.array([point_summary(p, versus, curve.metrics[versus], a["confidence"], a["interval"]).value for p in curve.points])
            s = [point_summary(p, metric, kind, a["confidence"], a["interval"]) for p in curve.points]
            value = np.array([x.value for x in s])
            shown = value > 0 if kind == "rate" else np.isfinite(value)
            ax.plot(snr[shown], value[shown], "o-", color=colour, label=curve.name, markersize=3)
            ax.fill_between(snr, [x.low for x in s], [x.high for x in s], color=colour, alpha=0.2, linewidth=0)
            if metric in banded and f"{metric}_min" in curve.metrics:
                lowest, highest = ([point_summary(p, f"{metric}_{end}", "mean", a["confidence"], a["interval"]).value
                                    for p in curve.points] for end in ("min", "max"))
                ax.fill_between(snr, lowest, highest, color=colour, alpha=0.1, linestyle="--", linewidth=0.8, edgecolor=colour)
            if curve.theory and metric == "ber" and versus is None and axis == "nominal":
                references.append((curve.theory, snr))
        _draw_closed_forms(ax, references, results.convention)
        if kind == "rate":
            ax.set_yscale("log")
        if versus is None:
            ax.set_xlabel(f"{CONVENTION_LABELS[results.convention]} [dB]" + (", measured effective" if axis == "effective" else ""))
        else:
            versus_kind = next(c.metrics[versus] for c in results.curves if versus in c.metrics)
            ax.set_xscale("log" if versus_kind == "rate" else "linear")
            ax.set_xlabel(f"{metric_title(versus)} (measured)")
        ax.set_title(metric_title(metric), fontsize=10)
        ax.grid(True, which="both", alpha=0.3)
        ax.tick_params(labelsize=8)
    import textwrap

    shown = {}  # one legend for every panel, below them: the curves are the same in each
    for ax in axes.flat[:len(metric_names)]:
        for handle, label in zip(*ax.get_legend_handles_labels()):
            shown.setdefault(label, handle)
    fig.legend(shown.values(), shown.keys(), loc="outside lower center", ncols=min(3, len(shown)) or 1, fontsize=7, frameon=False)
    fig.suptitle(textwrap.fill(f"{a['name']}: {int(a['confidence'] * 100)}% intervals ({a['interval']} for rates, Student t for means; "
                               "bands of replicated curves: the spread across replicates)", 60 * columns + 20), fontsize=9)
    fig.savefig(out_path, dpi=120)
    panels = {ax.get_title(): ax.get_legend_handles_labels()[1] for ax in axes.flat[:len(metric_names)]}
    plt.close(fig)
    return panels


def _draw_closed_forms(ax, references, convention):
    """Each distinct closed form of ``references`` [(theory, snr grid)] once, dashed, over its grid;
    references equal at every point of the grid (to 6 digits) are one line with one label."""
    distinct = {}
    for theory, snr in references:
        ber = closed_form_ber(theory, convention)
        if ber is None:
            continue
        key = (tuple(np.round(snr, 6)), tuple(float(f"{v:.6g}") for v in np.atleast_1d(ber(snr))))
        distinct.setdefault(key, []).append(theory)
    for number, ((grid, _), theories) in enumerate(distinct.items()):
        fine = np.linspace(min(grid), max(grid), 200)
        ax.plot(fine, closed_form_ber(theories[0], convention)(fine), linestyle=(0, (4, 4 + 2 * number)), color="0.25",
                linewidth=1, label=closed_form_label(theories))


def _replicate_line(ax, results, group, members, metric, kind, colour):
    """The mean over a curve's replicates, with the interval across them as its band."""
    from linksim.output.report import replicate_summaries

    rows = replicate_summaries(results, members)
    snr = np.array([snr_db for snr_db, _ in rows])
    mean = np.array([values[metric].value for _, values in rows])
    shown = mean > 0 if kind == "rate" else np.isfinite(mean)
    ax.plot(snr[shown], mean[shown], "s-", color=colour, markersize=4, label=f"{group} (mean of {len(members)} replicates)")
    ax.fill_between(snr, [values[metric].low for _, values in rows], [values[metric].high for _, values in rows], color=colour,
                    alpha=0.25, linewidth=0)


def plot_losses(histories, out_path, title):
    """Epoch-mean training loss against the epoch (all stages in order), one line per curve.

    ``histories``: ``{label: rows of linksim.run.checkpoints.loss_history}``. Epochs that replay a stored
    head (``cache_head``) get hollow markers: their data repeat an earlier epoch's.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4.5))
    for i, (label, rows) in enumerate(histories.items()):
        colour = f"C{i % 10}"
        epochs = np.arange(1, len(rows) + 1)
        losses = np.array([r["loss"] for r in rows])
        replayed = np.array([r["head"] == "replayed" for r in rows])
        ax.plot(epochs, losses, "-", color=colour, linewidth=1, label=label)
        ax.plot(epochs[~replayed], losses[~replayed], "o", color=colour, markersize=4)
        ax.plot(epochs[replayed], losses[replayed], "o", color=colour, markersize=4, markerfacecolor="none")
    ax.set_xlabel("epoch (all training stages in order; hollow: replayed head)")
    ax.set_ylabel("epoch-mean training loss")
    ax.set_yscale("log")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8)
    ax.set_title(title)
    fig.tight_layout()
    fig.savefig(out_path, dpi=120)
    plt.close(fig)


def plot_training_state(state, path):
    """A checkpoint's training loss (its ``state.json``) against steps: each window's mean (line) and each epoch's mean (dots at the epoch's end)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 4))
    steps, done = [], 0  # cumulative step at the end of each window, over all stages
    for _stage, _rnd, _epoch, first, last, _mean in state.get("windows", []):
        done += last - first + 1
        steps.append(done)
    if steps:
        ax.plot(steps, [w[5] for w in state["windows"]], "-", linewidth=1, label="window mean")
        ends = [steps[i] for i in range(len(steps)) if i + 1 == len(steps) or state["windows"][i + 1][3] == 0]  # next starts an epoch
        ax.plot(ends, [entry[3] for entry in state["losses"][len(state["losses"]) - len(ends):]], "o", markersize=3, label="epoch mean")
        ax.set_xlabel("training step (all stages)")
        ax.legend()
    else:  # a checkpoint written before windows were kept
        ax.plot(range(1, len(state["losses"]) + 1), [entry[3] for entry in state["losses"]], "o-", markersize=3)
        ax.set_xlabel("epoch (all stages)")
    ax.set_ylabel("training loss")
    ax.set_yscale("log")
    ax.grid(True, alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def _eager_taps(runner, curve_index, snr_db, batch_size, seed=(0, 0), until=None):
    """One batch through a curve's link at ``snr_db`` (chunk 0: the first test images)."""
    import tensorflow as tf

    link = runner.link_at(curve_index, snr_db)
    return link(batch_size, tf.constant(link.noise_variance(snr_db), tf.float32), tf.constant(snr_db, tf.float32),
                tf.constant(seed, tf.int32), tf.constant(link.point_values(snr_db), tf.float32), until=until)


def _mean_psnr(images, reference):
    mse = np.mean((images - reference) ** 2, axis=(1, 2, 3))
    return np.mean(10 * np.log10(1 / np.maximum(mse, 1e-10)))


def reconstruction_grid(runner, curve_index, snrs, out_path, num_images=6, title=""):
    """The same test images sent at several SNRs: originals on top, one row per SNR.

    Each row is labelled with its SNR and the mean PSNR of the images shown.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = [("original", None)] + [(f"{snr:g} dB", snr) for snr in snrs]
    fig, axes = plt.subplots(len(rows), num_images, figsize=(1.6 * num_images, 1.7 * len(rows)), squeeze=False)
    source_tap = runner.curve(curve_index).link.source.tap
    for r, (label, snr) in enumerate(rows):
        taps = _eager_taps(runner, curve_index, snr if snr is not None else 0.0, num_images)
        images = np.clip(taps[source_tap if snr is None else "output"].numpy(), 0, 1)
        if snr is not None:
            label += f"\n{_mean_psnr(images, taps[source_tap].numpy()):.1f} dB PSNR"
        for i in range(num_images):
            axes[r][i].imshow(images[i], interpolation="nearest")
            axes[r][i].set_xticks([])
            axes[r][i].set_yticks([])
        axes[r][0].set_ylabel(label, fontsize=8)
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    fig.savefig(out_path, dpi=110)
    plt.close(fig)


def comparison_grid(runner, curve_indices, snrs, out_path, num_images=3, title=""):
    """Curves side by side: one row per curve (originals on top), one column per SNR; each cell
    shows the first ``num_images`` test images in a strip, clipped to [0, 1] as displayed, titled with
    the mean PSNR of those images (not the curve's PSNR over the test set, which the metric figure shows)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = [runner.scenario.curves[c].name for c in curve_indices]
    fig, axes = plt.subplots(len(curve_indices) + 1, len(snrs), figsize=(1.5 * num_images * len(snrs), 1.9 * (len(curve_indices) + 1)),
                             squeeze=False)
    first = runner.curve(curve_indices[0]).link
    originals = _eager_taps(runner, curve_indices[0], snrs[0], num_images, until=first.stages[0].tap)[first.source.tap].numpy()
    for col, snr in enumerate(snrs):
        for row, c in enumerate([None] + list(curve_indices)):
            images = originals if c is None else np.clip(_eager_taps(runner, c, snr, num_images)["output"].numpy(), 0, 1)
            ax = axes[row][col]
            ax.imshow(np.concatenate(list(images), axis=1), interpolation="nearest")
            ax.set_xticks([])
            ax.set_yticks([])
            ax.set_title(f"{snr:g} dB" if c is None else f"these {len(images)}: {_mean_psnr(images, originals):.1f} dB", fontsize=9)
            if col == 0:
                ax.set_ylabel("original" if c is None else names[row - 1], fontsize=9)
    fig.suptitle(f"{title}: PSNR of the patches shown, clipped to [0, 1]", fontsize=10)
    fig.tight_layout()
    fig.savefig(out_path, dpi=110)
    plt.close(fig)


def slice_grid(runner, curve_indices, figure, out_path, title=""):
    """Volumes: one axial slice (``figure.slice``, default the middle) of the first test volume at
    each tap of ``figure.taps``, one row per curve and SNR; channel 0 of each tap, label maps
    (``figure.labels``) in a colour map. A curve without a tap leaves its cell empty."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = [(c, snr) for c in curve_indices for snr in figure.snr]
    pictures = []  # per row: tap → the slice shown
    for c, snr in rows:
        taps = _eager_taps(runner, c, snr, 1)  # the first test volume
        shown = {}
        for name in figure.taps:
            if name in taps:
                volume = np.asarray(taps[name][0])
                picture = volume[figure.slice if figure.slice is not None else len(volume) // 2]
                shown[name] = picture[..., 0] if picture.ndim == 3 else picture
        pictures.append(shown)
    top_label = max([float(p[n].max()) for p in pictures for n in figure.labels if n in p] + [1.0])  # one colour scale for all label maps
    fig, axes = plt.subplots(len(rows), len(figure.taps), figsize=(1.9 * len(figure.taps), 1.9 * len(rows)), squeeze=False)
    for r, ((c, snr), shown) in enumerate(zip(rows, pictures)):
        for col, name in enumerate(figure.taps):
            ax = axes[r][col]
            ax.set_xticks([])
            ax.set_yticks([])
            if r == 0:
                ax.set_title(name, fontsize=9)
            if col == 0:
                ax.set_ylabel(f"{runner.scenario.curves[c].name}\n{snr:g} dB", fontsize=8)
            if name not in shown:
                ax.set_frame_on(False)
            elif name in figure.labels:
                ax.imshow(shown[name], cmap="nipy_spectral", vmin=0, vmax=top_label, interpolation="nearest")
            else:
                ax.imshow(shown[name], cmap="gray", vmin=0, vmax=1, interpolation="nearest")
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    fig.savefig(out_path, dpi=110)
    plt.close(fig)


def constellation_scatter(runner, curve_index, snr_db, out_path, sent="symbols", received="received", max_points=5000, title=""):
    """Received symbols (dots) around the sent constellation points (crosses) at one SNR."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    taps = _eager_taps(runner, curve_index, snr_db, runner.scenario.montecarlo.batch_size)
    x, y = taps[sent].numpy().ravel()[:max_points], taps[received].numpy().ravel()[:max_points]
    fig, ax = plt.subplots(figsize=(5, 5))
    ax.scatter(y.real, y.imag, s=2, alpha=0.3, label="received")
    ax.scatter(np.unique(x).real, np.unique(x).imag, marker="x", color="k", s=40, label="sent")
    ax.set_aspect("equal")
    ax.set_xlabel("in-phase")
    ax.set_ylabel("quadrature")
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=8, loc="upper right")
    ax.set_title(title or f"{snr_db:g} dB", fontsize=10)
    fig.tight_layout()
    fig.savefig(out_path, dpi=110)
    plt.close(fig)
