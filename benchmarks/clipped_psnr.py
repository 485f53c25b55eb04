"""PSNR of reconstructions as the sweep scores them, and clipped to the data range first.

A decoder whose last layer is linear (JCM's) can put out values outside [0, 1]; PSNR then counts
errors that a displayed image, clipped, would not show. For every curve whose name matches and every
replicate, at the chosen SNR points, this runs the sweep's chunks with the sweep's seeds (the same data
and noise, so the unclipped column reproduces the sweep's PSNR) and scores the received tap both ways.
With ``--baseline C`` it also prints each curve's gap to C both ways, replicate k against replicate k
(Student t interval across replicates, as ``linksim compare``). Run after the scenario has trained:
``python benchmarks/clipped_psnr.py scenarios/scdm_headline.yaml --curves 'jcm-18db,scdm-joint,jcm-finetuned'
--snr=-18,-6,0 --baseline jcm-18db --out results/scdm_headline_clipped.csv``
"""
import argparse
import csv
import math
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # noqa: E402

FIELDS = ["curve", "replicate", "snr_db", "images", "psnr", "psnr_clipped", "outside_range"]


def clipped_rows(scenario, checkpoints, pattern, snrs, sent="images", received="reconstruction"):
    """One dict (FIELDS) per matching curve, replicate and SNR: mean PSNR over the sweep's images of
    ``received`` against ``sent``, as it is and clipped to the dataset's value range, and the fraction
    of received values outside that range."""
    import tensorflow as tf

    from linksim.output.report import name_matches
    from linksim.phy.seeding import stateless_seed
    from linksim.run.montecarlo import ChunkRunner
    from linksim.run.training import CurveWeights

    low, high = scenario.data.value_range
    mc = scenario.montecarlo
    points = [float(p) for p in scenario.snr.points()]
    runner = ChunkRunner(scenario, CurveWeights(scenario, checkpoints))
    rows = []
    for index, curve in enumerate(scenario.curves):
        if not name_matches(curve.name, pattern):
            continue
        for replicate in range(curve.replicates):
            link = runner.link_at(index, snrs[0], replicate)
            xla = mc.execution == "xla" and all(s.xla_compatible for s in [curve.source, *curve.stages, *curve.metrics])

            @tf.function(jit_compile=xla)   # compiled as the sweep compiles it (XLA draws other random numbers than a plain graph)
            def run(no, snr, seed, point_values, chunk):
                taps = link(mc.batch_size, no, snr, seed, point_values, chunk=chunk, max_samples=mc.max_samples)
                return {tap: taps[tap] for tap in (sent, received, "valid") if tap in taps}

            for snr_db in snrs:
                link = runner.link_at(index, snr_db, replicate)
                psnr, clipped, outside, count = [], [], 0, 0
                for chunk in range(math.ceil(mc.max_samples / mc.batch_size)):
                    taps = run(tf.constant(link.noise_variance(snr_db), tf.float32), tf.constant(snr_db, tf.float32),
                               tf.constant(stateless_seed(scenario.seed, index, points.index(snr_db), chunk), tf.int32),
                               tf.constant(link.point_values(snr_db), tf.float32), tf.constant(chunk, tf.int32))
                    valid = np.asarray(taps["valid"]) if "valid" in taps else slice(None)
                    x = np.asarray(taps[sent], np.float64)[valid]
                    y = np.asarray(taps[received], np.float64)[valid]
                    axes = tuple(range(1, x.ndim))
                    peak = (high - low) ** 2
                    psnr += list(10 * np.log10(peak / np.mean((y - x) ** 2, axis=axes)))
                    clipped += list(10 * np.log10(peak / np.mean((np.clip(y, low, high) - x) ** 2, axis=axes)))
                    outside, count = outside + int(np.sum((y < low) | (y > high))), count + y.size
                rows.append({"curve": curve.name, "replicate": replicate, "snr_db": snr_db, "images": len(psnr),
                             "psnr": float(np.mean(psnr)), "psnr_clipped": float(np.mean(clipped)), "outside_range": outside / count})
                report(rows[-1])
    return rows


def report(row):
    print(f"{row['curve']}#r{row['replicate']} {row['snr_db']:+g} dB: PSNR {row['psnr']:.2f}, clipped {row['psnr_clipped']:.2f} dB, "
          f"{100 * row['outside_range']:.1f} % of values outside the range", flush=True)


def gaps(rows, baseline, column):
    """``{(curve, snr_db): (mean, low, high)}``: the gap of each other curve to ``baseline`` in ``column``,
    replicate k against replicate k, with the Student t interval (95 %) across replicates."""
    from linksim.phy.intervals import mean_interval

    value = {(r["curve"], r["replicate"], r["snr_db"]): r[column] for r in rows}
    out = {}
    for curve, snr_db in sorted({(r["curve"], r["snr_db"]) for r in rows if r["curve"] != baseline}):
        diffs = np.array([v - value[(baseline, k, snr_db)] for (c, k, x), v in value.items()
                          if c == curve and x == snr_db and (baseline, k, snr_db) in value])
        mean, low, high = mean_interval(diffs.sum(), np.square(diffs).sum(), len(diffs))
        out[(curve, snr_db)] = (float(mean), float(low), float(high))
    return out


def main(argv=None):
    from linksim.scenario import load_scenario

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("scenario")
    parser.add_argument("--checkpoints", default="checkpoints")
    parser.add_argument("--curves", default="*", help="shell patterns of curve names, comma-separated")
    parser.add_argument("--snr", required=True, help="SNR points of the sweep (dB), comma-separated")
    parser.add_argument("--received", default="reconstruction", help="the tap scored against the images")
    parser.add_argument("--baseline", help="also print each curve's gap to this curve, as scored and clipped")
    parser.add_argument("--out", required=True, help="CSV file")
    args = parser.parse_args(argv)
    scenario = load_scenario(args.scenario)
    rows = clipped_rows(scenario, args.checkpoints, args.curves, [float(s) for s in args.snr.split(",")], received=args.received)
    with open(args.out, "w", newline="") as f:
        writer = csv.DictWriter(f, FIELDS)
        writer.writeheader()
        writer.writerows(rows)
    if args.baseline:
        scored, clipped = gaps(rows, args.baseline, "psnr"), gaps(rows, args.baseline, "psnr_clipped")
        for (curve, snr_db), (mean, low, high) in scored.items():
            c_mean, c_low, c_high = clipped[(curve, snr_db)]
            print(f"{curve} − {args.baseline} at {snr_db:+g} dB: {mean:+.2f} [{low:+.2f}, {high:+.2f}] dB as scored, "
                  f"{c_mean:+.2f} [{c_low:+.2f}, {c_high:+.2f}] dB clipped")


if __name__ == "__main__":
    main()
