"""What JPEG does with the per-patch bit budgets of the shipped separate-coding curves.

The size of the JPEG header that both ends know (and the link does not send); for each budget: the share of the 386 bundled test patches (32×32) that fit at some quality, the
qualities chosen, the error-free PSNR (the plateau of a separate curve above its cliff), the
dataset-mean PSNR (its floor below the cliff) and the coding time per patch.

    python benchmarks/jpeg_budget.py        # output kept in results/jpeg_budget.txt
"""
import time

import numpy as np

from linksim.catalogue.image_files import bundled_photos
from linksim.domains.imaging.jpeg import JPEGBitstream

BUDGETS = {  # bits per patch: scenario curves
    192: "vscc jpeg-ldpc-256qam-r0.75",
    256: "scdm jpeg-ldpc-16qam-r0.5",
    512: "scdm jpeg-ldpc-64qam-r0.67",
    1024: "quickstart jpeg-ldpc-16qam-r0.5",
    2048: "quickstart, amp_sc jpeg-ldpc-64qam-r0.67",
}


def mean_psnr(images, reference):
    mse = np.mean((images.astype(np.float64) - reference) ** 2, axis=(1, 2, 3))
    return float(np.mean(10 * np.log10(1.0 / mse)))


def main():
    test = bundled_photos("test", 32).images
    reference = test / 255.0
    mean_image = (bundled_photos("train", 32).images.mean(axis=0) / 255.0).astype(np.float32)
    floor = mean_psnr(np.broadcast_to(mean_image, reference.shape), reference)
    print(f"{len(test)} test patches 32×32×3; the dataset-mean patch gives PSNR {floor:.2f} dB")
    headers = [len(JPEGBitstream(test.shape[1:], 1024).tables(q)) for q in range(1, 96)]
    print(f"JPEG header (SOI … SOS, not sent) of such a patch: {min(headers)}–{max(headers)} bytes over qualities 1…95")
    print(f"{'bits':>6} | {'fit':>6} | {'quality min / median / max':>27} | {'error-free PSNR dB':>18} | {'ms per patch':>12} | curves")
    for budget, curves in BUDGETS.items():
        codec = JPEGBitstream(test.shape[1:], budget)
        start = time.perf_counter()
        bits, quality = codec.encode(test)
        images, failed = codec.decode(bits, mean_image)
        milliseconds = 1e3 * (time.perf_counter() - start) / len(test)
        sent = quality[quality > 0]
        spread = f"{sent.min()} / {int(np.median(sent))} / {sent.max()}" if len(sent) else "none fits"
        print(f"{budget:>6} | {np.mean(quality > 0):>6.1%} | {spread:>27} | {mean_psnr(images, reference):>18.2f} | "
              f"{milliseconds:>12.2f} | {curves}")


if __name__ == "__main__":
    main()
