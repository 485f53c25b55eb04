"""The latent variances of trained VSCC models: do they depend on the training SNR and on d?

For every curve of a scenario whose chain starts with a ``vscc_encoder`` (each replicate, the trained
weights from the checkpoint folder or those shipped with linksim), over the test split:

- the variances σ² the encoder gives (power-normalised as it sends them): mean, median, 10th and
  90th percentile over every latent element of every test image;
- the spread of σ² across the latent channels (the standard deviation of the per-channel means),
  which is where image structure would show;
- the knowledge-base variance σ²_KB its decoder keeps (mean over elements), and the mean power of
  the sent means μ.

One CSV row per curve and replicate, with the encoder's prior, d, KL weight and training SNR; the
figure draws the mean σ² against d for each training SNR (VSCC curves) and the other priors as
points. Run after the scenario has trained:
``python benchmarks/vscc_variance.py scenarios/vscc_cmc.yaml --out results/vscc_cmc_variance.csv``
(``--curves PATTERN``: only the curves whose names match, e.g. those trained so far).
"""
import argparse
import csv
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # noqa: E402

FIELDS = ["curve", "replicate", "prior", "d", "kl_weight", "training_snr_db", "sigma2_mean", "sigma2_median", "sigma2_p10",
          "sigma2_p90", "sigma2_channel_spread", "kb_variance_mean", "mean_power"]


def variance_rows(scenario, checkpoints, pattern="*"):
    """One dict per VSCC curve whose name matches ``pattern`` (shell patterns, comma-separated) and
    per replicate (FIELDS)."""
    from linksim.catalogue.image_files import batches
    from linksim.output.report import name_matches
    from linksim.run.montecarlo import ChunkRunner
    from linksim.run.training import CurveWeights

    runner = ChunkRunner(scenario, CurveWeights(scenario, checkpoints))
    images = scenario.data.load("test")
    rows = []
    for index, curve in enumerate(scenario.curves):
        encoder_params = curve.stages[0]
        if encoder_params.type != "vscc_encoder" or curve.training is None or not name_matches(curve.name, pattern):
            continue
        for replicate in range(curve.replicates):
            link = runner.curve(index, replicate).link
            encoder = link.stages[0].block
            decoders = [s.block for s in link.stages if s.name == "vscc_decoder"]
            variances, powers = [], []
            for batch in batches(images, 256, shuffle=False):
                mean, log_variance = encoder.moments(batch)  # [0, 1] images
                mean, log_variance = encoder.normalised(mean, log_variance)
                variances.append(np.exp(log_variance.numpy()))
                powers.append(np.mean(mean.numpy() ** 2, axis=1))
            sigma2 = np.concatenate(variances)  # [images, n], n = h·w·k in the encoder's (h, w, k) order
            per_channel = sigma2.reshape(len(sigma2), -1, encoder.latent_channels).mean(axis=(0, 1))
            training = curve.training.stages[0].snr if curve.training.stages else None
            rows.append({
                "curve": curve.name, "replicate": replicate, "prior": encoder_params.prior, "d": encoder_params.d,
                "kl_weight": encoder_params.kl_weight, "training_snr_db": training.low if training else "",
                "sigma2_mean": sigma2.mean(), "sigma2_median": np.median(sigma2), "sigma2_p10": np.percentile(sigma2, 10),
                "sigma2_p90": np.percentile(sigma2, 90), "sigma2_channel_spread": per_channel.std(),
                "kb_variance_mean": float(np.mean(decoders[0].kb_variance.numpy())) if decoders else "",
                "mean_power": float(np.mean(np.concatenate(powers)))})
    return rows


def draw(rows, path):
    """Mean σ² against d, one line per training SNR and KL weight (prior 'channel'); other priors as points at d = 0."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 4))
    channel = [r for r in rows if r["prior"] == "channel"]
    for snr, kl in sorted({(r["training_snr_db"], r["kl_weight"]) for r in channel}):
        points = sorted((r["d"], r["sigma2_mean"]) for r in channel if (r["training_snr_db"], r["kl_weight"]) == (snr, kl))
        ax.plot([p[0] for p in points], [p[1] for p in points], "o-", label=f"VSCC trained at {snr:g} dB, KL weight {kl:g}")
    for r in rows:
        if r["prior"] != "channel":
            ax.plot(0, r["sigma2_mean"], "x", label=f"{r['curve']} ({r['prior']} prior)")
    ax.set_xlabel("channel matching constant d (0: other priors)")
    ax.set_ylabel("mean latent variance σ² (test split)")
    ax.set_yscale("log")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=150)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("scenario")
    parser.add_argument("--checkpoints", default="checkpoints")
    parser.add_argument("--out", required=True, help="CSV file; the figure goes beside it as .png")
    parser.add_argument("--curves", default="*", help="only the curves whose names match (e.g. 'vscc-tx*,vscc-kb+5dB-kl*')")
    args = parser.parse_args()
    from linksim.scenario import load_scenario

    rows = variance_rows(load_scenario(args.scenario), args.checkpoints, args.curves)
    with open(args.out, "w", newline="") as f:
        writer = csv.DictWriter(f, FIELDS)
        writer.writeheader()
        for row in rows:
            writer.writerow({k: (f"{v:.6g}" if isinstance(v, float) else v) for k, v in row.items()})
    draw(rows, os.path.splitext(args.out)[0] + ".png")
    for row in rows:
        print(f"{row['curve']:>24} r{row['replicate']}  prior {row['prior']:>8}  d {row['d']:g}  σ² mean {row['sigma2_mean']:.4g}  "
              f"median {row['sigma2_median']:.4g}  channel spread {row['sigma2_channel_spread']:.3g}")


if __name__ == "__main__":
    main()
