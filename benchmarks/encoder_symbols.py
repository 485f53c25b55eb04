"""How a trained encoder uses its constellation: point usage and distance of its symbols from the grid.

Loads the trained weights of one curve (default: ``jcm-18db`` of ``scenarios/scdm.yaml``, after
``linksim run`` has trained it), encodes the test patches once (the encoder in evaluation mode,
Gumbel sampling included where the encoder samples) and prints the share of each constellation
point, the entropy of that usage (6 bits for uniform 64-QAM), the mean |c|² of the nearest points
and the mean squared distance of the sent symbols from their nearest point: the per-image power
normalisation scales every point by 1/√(mean |c|²) of its image, which moves the symbols off the
grid that a constellation-based estimator (``posterior_mean``) assumes.

Run: ``python benchmarks/encoder_symbols.py [--scenario scenarios/scdm.yaml] [--curve jcm-18db] [--checkpoints checkpoints]``
"""
import argparse
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from linksim.scenario import build_curve, load_scenario  # noqa: E402
from linksim.run.checkpoints import checkpoint_path  # noqa: E402
from linksim.run.training import load_weights  # noqa: E402
from linksim.phy.constellations import make_constellation  # noqa: E402


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenario", default="scenarios/scdm.yaml")
    parser.add_argument("--curve", default="jcm-18db")
    parser.add_argument("--checkpoints", default="checkpoints")
    args = parser.parse_args()

    scenario = load_scenario(args.scenario)
    curve = scenario.curve_named(args.curve)
    link, _ = build_curve(scenario, curve)
    test = scenario.data.load("test", scenario.seed)
    load_weights(link, checkpoint_path(scenario, curve, args.checkpoints))
    encoder = next(s.block for s in link.stages if s.learned and s.name.endswith("_encoder"))
    symbols = encoder(tf.constant(test, tf.float32) / 255.0, training=False, seed=tf.constant([0, 1])).numpy()  # [images, n]

    points = make_constellation(encoder.modulation).points.numpy()
    distance = np.abs(symbols[..., None] - points) ** 2  # [images, n, M]
    nearest = distance.argmin(-1)
    share = np.bincount(nearest.ravel(), minlength=len(points)) / nearest.size
    used = share[share > 0]
    print(f"# {args.curve} of {args.scenario}: {symbols.shape[0]} test patches × {symbols.shape[1]} symbols, {encoder.modulation}")
    print(f"points used {len(used)} of {len(points)}; largest share {share.max():.4f}; usage entropy {-(used * np.log2(used)).sum():.3f} bits "
          f"(uniform {np.log2(len(points)):.3f})")
    print(f"mean |c|^2 of the nearest points {np.mean(np.abs(points[nearest]) ** 2):.4f}")
    print(f"mean |z - nearest point|^2 {distance.min(-1).mean():.5f} (N0 at 18 dB: {10 ** -1.8:.5f})")


if __name__ == "__main__":
    main()
