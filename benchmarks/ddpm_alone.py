"""DiSC-Med's conditional DDPM alone, on clean conditions: does it draw the CT back from the semantics?

Trains one ``DDPMReconstructor`` (the reconstruction stage's layer) on the clean label + edge
condition of phantom volumes, for each ``--prediction`` (ε as eq. 5, or v), then samples the same
conditions with DDIM (x_0 clipped) and prints the CT PSNR (on the [0, 1] CT scale, as the scenario's
``psnr``) and the mean of the drawn CT against the true one, on the training volumes and on test
volumes. ``--train 1`` is the overfit check: a model that cannot draw back its only training volume
has a training/sampling defect, not too little data.

Run: ``python benchmarks/ddpm_alone.py [--train 1] [--test 2] [--steps 500] [--prediction epsilon v]``
"""
import argparse
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from linksim.domains.medical.datasets import NUM_CT_CLASSES  # noqa: E402
from linksim.domains.medical.ct_phantom import phantom_patients, hu_to_unit  # noqa: E402
from linksim.models.disc_med.reconstruction import DDPMReconstructor  # noqa: E402
from linksim.models.disc_med.semantics import coarse_masks, edge_volume  # noqa: E402


def volumes(first_seed, count, shape):
    """CT [n, D, H, W, 1] in [0, 1] and the clean condition [n, D, H, W, C + 1] (one-hot labels, edges)."""
    ct_hu, labels = phantom_patients(first_seed, count, shape)
    ct = hu_to_unit(ct_hu).astype(np.float32)
    edges = np.stack([edge_volume(coarse_masks(label, c)) for label, c in zip(labels, ct)]).astype(np.float32)
    condition = np.concatenate([np.eye(NUM_CT_CLASSES, dtype=np.float32)[labels.astype(int)], edges[..., None]], -1)
    return ct[..., None], condition


def psnr(truth, drawn):
    return float(10 * np.log10(1.0 / np.mean((truth - drawn) ** 2)))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shape", type=int, nargs=3, default=[16, 64, 64])
    parser.add_argument("--train", type=int, default=1, help="training volumes (phantom seeds 0 …)")
    parser.add_argument("--test", type=int, default=0, help="test volumes (phantom seeds 1 000 000 …)")
    parser.add_argument("--steps", type=int, default=500, help="optimiser steps, one training volume each")
    parser.add_argument("--filters", type=int, default=16)
    parser.add_argument("--levels", type=int, default=3)
    parser.add_argument("--learning-rate", type=float, default=2e-3)
    parser.add_argument("--sampling-steps", type=int, nargs="+", default=[25])
    parser.add_argument("--prediction", nargs="+", default=["epsilon", "v"])
    args = parser.parse_args()

    train_ct, train_condition = volumes(0, args.train, tuple(args.shape))
    sets = {"train": (train_ct, train_condition)}
    if args.test:
        sets["test"] = volumes(1_000_000, args.test, tuple(args.shape))
    print(f"# DDPM alone: {args.train} training volume(s) {args.shape}, {args.steps} Adam steps (lr {args.learning_rate}, cosine), "
          f"U-Net filters {args.filters} levels {args.levels}, {os.cpu_count()} CPUs")
    print(f"{'prediction':>10} {'loss':>8} {'train s':>8} {'set':>5} {'DDIM':>5} {'PSNR dB':>8} {'mean':>7} {'true mean':>9}")
    for prediction in args.prediction:
        tf.keras.utils.set_random_seed(0)
        model = DDPMReconstructor(NUM_CT_CLASSES, args.filters, args.levels, prediction=prediction)
        schedule = tf.keras.optimizers.schedules.CosineDecay(args.learning_rate, args.steps)
        optimizer = tf.keras.optimizers.Adam(schedule)

        @tf.function(jit_compile=True)
        def step(ct, condition, seed):
            with tf.GradientTape() as tape:
                loss = model.loss(ct, condition, seed)
            optimizer.apply_gradients(zip(tape.gradient(loss, model.trainable_variables), model.trainable_variables))
            return loss

        model(train_condition[:1], tf.constant([0, 0]))
        start, losses = time.perf_counter(), []
        for i in range(args.steps):
            k = i % args.train
            losses.append(float(step(train_ct[k:k + 1], train_condition[k:k + 1], tf.constant([1, i]))))
        seconds = time.perf_counter() - start
        loss = float(np.mean(losses[-50:]))
        for sampling_steps in args.sampling_steps:
            model.sampling_steps = sampling_steps
            for name, (ct, condition) in sets.items():
                drawn = np.concatenate([model(condition[k:k + 1], tf.constant([2, k])).numpy() for k in range(len(ct))])
                print(f"{prediction:>10} {loss:8.4f} {seconds:8.0f} {name:>5} {sampling_steps:5d} {psnr(ct, drawn):8.2f} "
                      f"{drawn.mean():7.3f} {ct.mean():9.3f}", flush=True)


if __name__ == "__main__":
    main()
