"""Metric-versus-SNR figures from a results file."""
import numpy as np

from linksim.montecarlo import summarize
from linksim.report import CONVENTION_LABELS

__all__ = ["plot_results"]


def plot_results(results, out_path):
    """One panel per metric: each curve with its interval band, closed form dashed.

    Rate metrics use a logarithmic axis. Written with matplotlib's Agg backend (no display).
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from phy.ber_theory import ber_awgn

    a = results.attrs
    metric_names = list(dict.fromkeys(m for c in results.curves for m in c.metrics))
    fig, axes = plt.subplots(1, len(metric_names), figsize=(6.4 * len(metric_names), 4.8), squeeze=False)
    for ax, metric in zip(axes[0], metric_names):
        kind = "rate"
        for i, curve in enumerate(results.curves):
            if metric not in curve.metrics or not curve.points:
                continue
            kind = curve.metrics[metric]
            colour = f"C{i % 10}"
            snr = np.array([p.snr_db for p in curve.points])
            s = [summarize(kind, p.stats[metric], a["confidence"], a["interval"]) for p in curve.points]
            value = np.array([x.value for x in s])
            shown = value > 0 if kind == "rate" else np.isfinite(value)
            ax.plot(snr[shown], value[shown], "o-", color=colour, label=curve.name, markersize=4)
            ax.fill_between(snr, [x.low for x in s], [x.high for x in s], color=colour, alpha=0.2, linewidth=0)
            if curve.theory and metric == "ber" and results.convention in ("esno", "ebno"):
                fine = np.linspace(snr.min(), snr.max(), 200)
                theory = ber_awgn(curve.theory["modulation"], fine, results.convention, curve.theory["labelling"])
                ax.plot(fine, theory, "--", color=colour, linewidth=1, label=f"{curve.name} closed form")
        if kind == "rate":
            ax.set_yscale("log")
        ax.set_xlabel(f"{CONVENTION_LABELS[results.convention]} [dB]")
        ax.set_ylabel(metric.upper() if kind == "rate" else metric)
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=8)
    fig.suptitle(f"{a['name']} ({int(a['confidence'] * 100)}% {a['interval']} intervals)")
    fig.tight_layout()
    fig.savefig(out_path, dpi=120)
    plt.close(fig)
