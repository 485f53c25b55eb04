"""The separate-coding baseline: JPEG within a per-image bit budget, through a 5G LDPC-coded link."""
import io
import re

import numpy as np
import pytest
from PIL import Image

from linksim.cli import main
from linksim.catalogue.image_files import bundled_photos
from linksim.domains.imaging.jpeg import OVERHEAD_BITS, JPEGBitstream
from linksim.output.results import Results
from linksim.scenario import parse_scenario
from linksim.domains.imaging.stages import bit_budget

SHAPE = (32, 32, 3)


@pytest.fixture(scope="module")
def patches():
    return bundled_photos("test", 32).images  # [386, 32, 32, 3] uint8


def separate_scenario(channel_uses=512, k=1024, n=2048, modulation="qam16", snrs=(-10.0, 40.0), samples=16):
    curve = {"name": "separate", "source": {"type": "images", "split": "test"},
             "stages": [{"type": "image_encoder", "channel_uses": channel_uses}, {"type": "ldpc_encoder", "k": k, "n": n},
                        {"type": "mapper", "modulation": modulation}, {"type": "awgn"},
                        {"type": "demapper", "modulation": modulation, "method": "app"}, {"type": "ldpc_decoder", "k": k, "n": n},
                        {"type": "image_decoder"}],
             "metrics": [{"type": "psnr"}, {"type": "bler", "sent": "codec_bits", "received": "decoded_bits", "name": "image_loss", "block_bits": "row"}]}
    return {"name": "separate", "seed": 3, "data": {"dataset": "bundled-photos", "patch_size": 32},
            "snr": {"convention": "esno", "values": list(snrs)},
            "montecarlo": {"batch_size": samples // 2, "max_samples": samples, "target_errors": None, "stop_after_error_free": False},
            "curves": [curve]}


def full_jpeg(image, quality):
    buffer = io.BytesIO()
    Image.fromarray(image).save(buffer, "JPEG", quality=quality)
    return buffer.getvalue()


def mean_psnr(point):
    return point.stats["psnr"]["sum"] / point.stats["psnr"]["count"]


def psnr(images, reference):
    mse = np.mean((images.astype(np.float64) - reference) ** 2, axis=(1, 2, 3))
    return np.mean(10 * np.log10(1.0 / mse))


@pytest.mark.parametrize("modulation, k, n, budget", [("qam16", 1024, 2048, 1024), ("qam64", 2048, 3072, 2048), ("qam256", 2048, 4096, 2048)])
def test_the_bit_budget_is_channel_uses_times_bits_per_symbol_times_code_rate(modulation, k, n, budget):
    scenario = parse_scenario(separate_scenario(k=k, n=n, modulation=modulation))
    assert bit_budget(scenario.curves[0], 512) == budget


def test_the_quality_sent_is_the_largest_whose_scan_fits_the_budget(patches):
    codec = JPEGBitstream(SHAPE, 1024)
    for image in patches[::40]:
        quality, scan = codec.fit(image)
        fitting = [q for q in range(1, 96) if len(full_jpeg(image, q)) - len(codec.tables(q)) - 2 <= codec.max_scan_bytes]
        assert quality == max(fitting, default=0)
        assert full_jpeg(image, quality) == codec.tables(quality) + scan + b"\xff\xd9"  # the scan is the file minus what both ends know
    bits, sent = codec.encode(patches[:3])
    assert bits.shape == (3, 1024) and bits.dtype == np.uint8 and set(np.unique(bits)) <= {0, 1}
    assert codec.max_scan_bytes == (1024 - OVERHEAD_BITS) // 8
    tiny = JPEGBitstream(SHAPE, OVERHEAD_BITS + 8)  # one byte of scan: fits no quality
    assert tiny.fit(patches[0]) == (0, b"")


def test_every_bit_error_and_every_garbage_packet_gives_the_fallback_image(patches):
    codec = JPEGBitstream(SHAPE, 1024)
    fallback = np.full(SHAPE, 0.25, np.float32)
    bits, _ = codec.encode(patches[:4])
    rng = np.random.default_rng(1)
    flipped = bits.copy()
    flipped[np.arange(4), rng.integers(0, 1024, 4)] ^= 1  # one error per packet: header, scan, padding or CRC
    images, failed = codec.decode(flipped, fallback)
    assert failed.all() and np.array_equal(images, np.broadcast_to(fallback, images.shape))
    images, failed = codec.decode(rng.integers(0, 2, (200, 1024)), fallback)
    assert failed.all()
    not_sent, _ = JPEGBitstream(SHAPE, OVERHEAD_BITS + 8).encode(patches[:1])
    assert JPEGBitstream(SHAPE, OVERHEAD_BITS + 8).decode(not_sent, fallback)[1].all()


def test_an_error_free_link_returns_the_codecs_own_decoding_and_a_lost_one_the_dataset_mean(patches, write_scenario, tmp_path):
    """Through `linksim run` (execution xla: the NumPy codec's curve falls back to a graph)."""
    out = tmp_path / "separate.h5"
    assert main(["run", write_scenario(separate_scenario()), "--out", str(out), "--quiet"]) == 0
    lost, clean = Results.load(out).curves[0].points

    reference = patches[:16] / 255.0
    mean = (bundled_photos("train", 32).images.mean(axis=0) / 255.0).astype(np.float32)
    assert lost.stats["image_loss"]["errors"] == 16
    assert mean_psnr(lost) == pytest.approx(psnr(np.broadcast_to(mean, reference.shape), reference), rel=1e-5)

    codec = JPEGBitstream(SHAPE, 1024)
    own = np.stack([np.asarray(Image.open(io.BytesIO(full_jpeg(image, codec.fit(image)[0])))) for image in patches[:16]]) / np.float32(255.0)
    assert clean.stats["image_loss"]["errors"] == 0
    assert mean_psnr(clean) == pytest.approx(psnr(own, reference), rel=1e-5)


def shrink(curve, channel_uses, k, n):
    curve["stages"][0]["channel_uses"] = channel_uses
    for coder in (curve["stages"][1], curve["stages"][5]):
        coder.update(k=k, n=n)


@pytest.mark.parametrize("mutate, message", [
    (lambda c: c["stages"][0].update(channel_uses=500), "500 channel uses × 4 bits = 2000 coded bits per image, not a multiple of the ldpc_encoder's n = 2048"),
    (lambda c: shrink(c, channel_uses=32, k=64, n=128), r"the bit budget \(64 bits per image\) must be a multiple of 8 and at least 72"),
    (lambda c: c["stages"].insert(0, c["stages"].pop(1)), "image_encoder 'codec_bits': must be the first stage"),
    (lambda c: (c["stages"].pop(0), c.update(metrics=[{"type": "psnr"}])), "image_decoder 'reconstruction': needs an 'image_encoder' stage with codec 'jpeg' earlier"),
    (lambda c: c["stages"].__setitem__(slice(2, 5), [{"type": "bsc", "error_probability": 0.01}]), "the bit budget needs a mapper stage"),
])
def test_bad_separate_coding_parameters_are_one_line_errors(mutate, message, write_scenario, capsys):
    spec = separate_scenario()
    mutate(spec["curves"][0])
    assert main(["validate", write_scenario(spec)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert re.search(message, err), err


def test_a_lost_whole_test_image_is_the_training_crops_mean_colour(tmp_path, write_scenario):
    """``whole_test_images``: the fallback of a 32×48 test image is the mean colour of the 16×16 training
    crops (the mean crop has another shape)."""
    from linksim.catalogue.image_files import random_crops

    rng = np.random.default_rng(5)
    (tmp_path / "imgs").mkdir()
    pictures = rng.integers(0, 256, (2, 32, 48, 3), dtype=np.uint8)
    for i, picture in enumerate(pictures):
        Image.fromarray(picture).save(tmp_path / "imgs" / f"{i}.png")
    spec = separate_scenario(snrs=(-10.0,), samples=2)
    spec["data"] = {"dataset": "image-folder", "path": str(tmp_path / "imgs"), "patch_size": 16, "train_crops": 8, "whole_test_images": True}
    out = tmp_path / "separate.h5"
    assert main(["run", write_scenario(spec), "--out", str(out), "--quiet"]) == 0
    (lost,) = Results.load(out).curves[0].points
    colour = (random_crops(str(tmp_path / "imgs"), 16, 8, spec["seed"]).images.mean(axis=0) / 255.0).astype(np.float32).mean(axis=(0, 1))
    assert lost.stats["image_loss"]["errors"] == 2
    assert mean_psnr(lost) == pytest.approx(psnr(np.broadcast_to(colour, pictures.shape), pictures / 255.0), rel=1e-5)
