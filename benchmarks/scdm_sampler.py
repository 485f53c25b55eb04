"""SCDM sampler cost against N_snr, and model sizes / storage against a bank of per-SNR JCM codecs.

Builds the layers exactly as a scenario's ``scdm`` curve does (default ``scenarios/scdm.yaml``;
timings do not depend on the weights, so nothing is trained or loaded) and measures, for each
SNR, the number of levels N_snr the sampler runs and the denoised images per second (batch of
``montecarlo.batch_size`` images, XLA as in the scenario, median of ``--repeats`` calls after a
warm-up). Sizes are parameter counts × 4 bytes (float32); the storage comparison follows the
paper's Table I: a bank of one JCM codec per 0.5 dB over [−18, 18] dB (72 codecs) against one
codec plus the denoiser.

Run: ``python benchmarks/scdm_sampler.py [--scenario scenarios/scdm.yaml] [--curve scdm] [--repeats 3]``
"""
import argparse
import os
import statistics
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from linksim.scenario import build_curve, load_scenario  # noqa: E402

BANK_SIZE = 72  # codecs for [−18, 18] dB in 0.5 dB steps (SCDM, Table I)
PAPER = {"jcm_mb": 79.94, "scdm_mb": 656.84, "bank_mb": 5755.68, "framework_mb": 736.78, "factor": 7.8}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenario", default="scenarios/scdm.yaml")
    parser.add_argument("--curve", default="scdm")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--snr", type=float, nargs="+", default=[-18, -12, -6, 0, 6, 12, 18])
    args = parser.parse_args()

    scenario = load_scenario(args.scenario)
    curve = scenario.curve_named(args.curve)
    link, _ = build_curve(scenario, curve)
    size = scenario.data.patch_size
    batch = scenario.montecarlo.batch_size
    link(1, tf.constant(1.0), tf.constant(0.0), tf.constant([0, 0]), tf.zeros([len(link.stages)]), inputs=tf.zeros((1, size, size, 3)))
    layers = {s.name: s.block for s in link.stages if s.learned}
    encoder_name, decoder_name = [name for name in layers if name.endswith(("_encoder", "_decoder"))]
    denoiser, encoder = layers["scdm_denoiser"], layers[encoder_name]
    n = encoder.num_symbols

    print(f"# SCDM sampler, curve {curve.name!r} of {args.scenario}: batch {batch} images, n = {n} symbols, "
          f"N = {denoiser.schedule.num_levels} levels, L = {denoiser.num_corrector}, XLA, {os.cpu_count()} CPUs")
    sample = tf.function(lambda z, no, seed: denoiser(z, no, seed=seed), jit_compile=True)
    rng = np.random.default_rng(0)
    z = tf.constant((rng.normal(size=(batch, n)) + 1j * rng.normal(size=(batch, n))) / np.sqrt(2), tf.complex64)
    sample(z, tf.constant(1.0), tf.constant([0, 0]))  # compile once: one graph serves every SNR
    print(f"{'Es/N0 dB':>9} {'N_snr':>6} {'score evals':>12} {'images/s':>10} {'ms/image':>9}")
    for snr in args.snr:
        no = tf.constant(10 ** (-snr / 10), tf.float32)
        times = []
        for r in range(args.repeats):
            start = time.perf_counter()
            sample(z, no, tf.constant([1, r])).numpy()
            times.append(time.perf_counter() - start)
        seconds = statistics.median(times)
        levels = int(denoiser.start_level(no))
        print(f"{snr:9g} {levels:6d} {levels * (1 + denoiser.num_corrector):12d} {batch / seconds:10.1f} {1e3 * seconds / batch:9.2f}")

    mb = {name: layer.count_params() * 4 / 2**20 for name, layer in layers.items()}
    codec = mb[encoder_name] + mb[decoder_name]
    bank, framework = BANK_SIZE * codec, codec + mb["scdm_denoiser"]
    print(f"# model sizes (float32): JCM codec {codec:.3f} MB ({layers[encoder_name].count_params() + layers[decoder_name].count_params()} "
          f"parameters), SCDM denoiser {mb['scdm_denoiser']:.3f} MB ({denoiser.count_params()} parameters)")
    print(f"# storage: bank of {BANK_SIZE} JCM codecs {bank:.2f} MB; one codec + SCDM {framework:.3f} MB; factor {bank / framework:.1f}")
    print(f"# paper (Table I): JCM {PAPER['jcm_mb']} MB, SCDM {PAPER['scdm_mb']} MB; bank {PAPER['bank_mb']} MB, "
          f"framework {PAPER['framework_mb']} MB; factor {PAPER['factor']}")


if __name__ == "__main__":
    main()
