"""Datasets (bundled photos, CIFAR-10 binary, image folders), data order, image metrics."""
import numpy as np
import pytest
import tensorflow as tf
from PIL import Image

from linksim.cli import main
from linksim.catalogue.image_files import (BUNDLED_TEST, BUNDLED_TRAIN, batches, bundled_photos, cifar10, cut_patches, epoch_order,
                          image_folder, load_photo, random_crops, whole_images)
from linksim.engine.errors import InputError
from linksim.run.montecarlo import run_scenario
from linksim.scenario import parse_scenario


def test_bundled_split_is_by_photo_and_patches_are_the_photos_pixels():
    assert not set(BUNDLED_TRAIN) & set(BUNDLED_TEST)
    train, test = bundled_photos("train"), bundled_photos("test")
    assert train.sources == BUNDLED_TRAIN and test.sources == BUNDLED_TEST
    assert set(np.unique(test.source)) == {0, 1} and train.images.dtype == np.uint8
    chelsea = load_photo("chelsea")
    assert test.images.shape[1:] == (32, 32, 3) and np.sum(test.source == 0) == (300 // 32) * (451 // 32)
    np.testing.assert_array_equal(test.images[0], chelsea[:32, :32])
    np.testing.assert_array_equal(test.images[1], chelsea[:32, 32:64])
    # no test patch appears among the training patches
    train_keys = {p.tobytes() for p in train.images}
    assert not any(p.tobytes() in train_keys for p in test.images)


def test_cut_patches_row_major_and_margins_dropped():
    image = np.arange(5 * 7 * 1).reshape(5, 7, 1)
    patches = cut_patches(image, 2)
    assert patches.shape == (2 * 3, 2, 2, 1)
    np.testing.assert_array_equal(patches[1, :, :, 0], [[2, 3], [9, 10]])


def _write_cifar(directory, files, count, rng):
    directory.mkdir(parents=True, exist_ok=True)
    written = {}
    for name in files:
        labels = rng.integers(0, 10, count, dtype=np.uint8)
        planes = rng.integers(0, 256, (count, 3, 32, 32), dtype=np.uint8)
        records = np.concatenate([labels[:, None], planes.reshape(count, -1)], axis=1)
        (directory / name).write_bytes(records.tobytes())
        written[name] = (labels, planes.transpose(0, 2, 3, 1))
    return written


def test_cifar10_binary_format_is_parsed_exactly(tmp_path):
    rng = np.random.default_rng(0)
    root = tmp_path / "cifar"
    written = _write_cifar(root / "cifar-10-batches-bin", [f"data_batch_{i}.bin" for i in range(1, 6)] + ["test_batch.bin"], 4, rng)
    test = cifar10(str(root), "test")
    np.testing.assert_array_equal(test.images, written["test_batch.bin"][1])
    np.testing.assert_array_equal(test.labels, written["test_batch.bin"][0])
    train = cifar10(str(root / "cifar-10-batches-bin"), "train")
    assert train.images.shape == (20, 32, 32, 3)
    np.testing.assert_array_equal(train.images[4:8], written["data_batch_2.bin"][1])


def test_cifar10_pickle_edition_and_missing_or_broken_files_are_refused(tmp_path):
    (tmp_path / "cifar-10-batches-py").mkdir()
    (tmp_path / "cifar-10-batches-py" / "data_batch_1").write_bytes(b"\x80\x04pickle")
    with pytest.raises(InputError, match="pickle"):
        cifar10(str(tmp_path / "cifar-10-batches-py"), "test")
    with pytest.raises(InputError, match="binary edition"):
        cifar10(str(tmp_path / "empty"), "test")
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "test_batch.bin").write_bytes(b"\x00" * 100)
    with pytest.raises(InputError, match="3073-byte"):
        cifar10(str(bad), "test")


def test_image_folder_tiles_and_seeded_random_crops(tmp_path):
    rng = np.random.default_rng(1)
    pixels = rng.integers(0, 256, (70, 90, 3), dtype=np.uint8)
    Image.fromarray(pixels).save(tmp_path / "a.png")
    Image.fromarray(pixels[:40, :40]).save(tmp_path / "b.PNG")
    (tmp_path / "notes.txt").write_text("ignored")
    tiles = image_folder(str(tmp_path), 32)
    assert len(tiles) == 2 * 2 + 1 and tiles.sources[0].endswith("a.png")
    np.testing.assert_array_equal(tiles.images[1], pixels[:32, 32:64])
    crops = random_crops(str(tmp_path), 32, 50, seed=3)
    assert crops.images.shape == (50, 32, 32, 3)
    np.testing.assert_array_equal(crops.images, random_crops(str(tmp_path), 32, 50, seed=3).images)
    (tmp_path / "broken.jpg").write_bytes(b"not a jpeg")
    with pytest.raises(InputError, match="cannot decode"):
        image_folder(str(tmp_path), 32)


def test_data_order_is_seeded_and_batches_are_floats_in_unit_range():
    a, b, c = epoch_order(100, 5, 0), epoch_order(100, 5, 0), epoch_order(100, 5, 1)
    assert np.array_equal(a, b) and not np.array_equal(a, c) and sorted(a) == list(range(100))
    images = np.arange(10 * 2 * 2 * 3, dtype=np.uint8).reshape(10, 2, 2, 3)
    got = np.concatenate([x.numpy() for x in batches(images, 4, seed=5, epoch=0)])
    np.testing.assert_allclose(got, images[epoch_order(10, 5, 0)] / 255.0, rtol=1e-6)
    assert got.dtype == np.float32 and got.min() >= 0 and got.max() <= 1


def _image_metrics(sent, received):
    from linksim.catalogue.metrics import PSNR, SSIM, MSE

    taps = {"images": tf.constant(sent, tf.float32), "output": tf.constant(received, tf.float32)}
    out = {}
    for metric in (PSNR(type="psnr"), SSIM(type="ssim"), MSE(type="mse", sent="images", received="output")):
        stats = {k: v.numpy() for k, v in metric.build().update(taps).items()}
        out[metric.type] = stats["sum"] / stats["count"]
    return out


def test_image_metrics_on_known_cases():
    rng = np.random.default_rng(2)
    x = rng.uniform(0.2, 0.8, (3, 32, 32, 3))
    same = _image_metrics(x, x)
    assert same["psnr"] == pytest.approx(100.0) and same["ssim"] == pytest.approx(1.0, abs=1e-6) and same["mse"] == 0
    shifted = _image_metrics(x, x + 0.1)
    assert shifted["psnr"] == pytest.approx(20.0, abs=1e-6) and shifted["mse"] == pytest.approx(0.01, rel=1e-5)
    noisy = _image_metrics(x, x + rng.normal(0, 0.1, x.shape))
    assert noisy["ssim"] < 0.9


def test_psnr_of_awgn_images_equals_the_snr_and_each_test_image_counts_once():
    """Unit signal power and noise variance 10^(-SNR/10) per pixel: MSE = that variance."""
    scenario = parse_scenario({
        "name": "noisy_images", "seed": 1, "snr": {"convention": "snr", "values": [10.0, 20.0]},
        "montecarlo": {"batch_size": 100, "target_errors": None, "max_samples": 386, "execution": "graph"},
        "curves": [{"name": "awgn", "signal_power": "nominal", "source": {"type": "images"}, "stages": [{"type": "real_awgn"}],
                    "metrics": [{"type": "psnr"}, {"type": "mse", "sent": "images", "received": "output"}]}],
    })
    for point in run_scenario(scenario):
        assert point.stats["psnr"]["count"] == 386 and point.chunks == 4
        mse = point.stats["mse"]["sum"] / point.stats["mse"]["count"]
        assert mse == pytest.approx(10 ** (-point.snr_db / 10), rel=0.01)
        assert point.stats["psnr"]["sum"] / 386 == pytest.approx(point.snr_db, abs=0.05)


@pytest.mark.parametrize("data,expected", [
    ({"dataset": "cifar10"}, "data.path: missing required key"),
    ({"dataset": "cifar10", "path": "/nonexistent/cifar"}, "no such folder '/nonexistent/cifar'; expected the CIFAR-10 binary edition"),
    ({"dataset": "image-folder", "path": "/nonexistent/kodak"}, "no such folder '/nonexistent/kodak' (path)"),
    ({"dataset": "cifar10", "path": ".", "patch_size": 64}, "must be 32"),
])
def test_missing_datasets_are_one_line_errors(data, expected, write_scenario, capsys):
    from tests.conftest import tiny_scenario

    assert main(["validate", write_scenario(tiny_scenario(data=data))]) == 2
    err = capsys.readouterr().err
    assert expected in err and err.count("\n") == 1, err


def _folder_of_two_orientations(folder, rng):
    """A 64×96 (landscape) and a 96×64 (portrait) picture: 2×3 and 3×2 tiles of 32."""
    folder.mkdir()
    landscape, portrait = rng.integers(0, 256, (64, 96, 3), dtype=np.uint8), rng.integers(0, 256, (96, 64, 3), dtype=np.uint8)
    Image.fromarray(landscape).save(folder / "a.png")
    Image.fromarray(portrait).save(folder / "b.png")
    return landscape, portrait


def test_stitch_tiles_puts_cut_patches_back_together_and_portraits_are_turned(tmp_path):
    from linksim.catalogue.metrics import stitch_tiles

    landscape, portrait = _folder_of_two_orientations(tmp_path / "imgs", np.random.default_rng(4))
    tiles = image_folder(str(tmp_path / "imgs"), 32, turn_portrait=True)
    assert tiles.images.shape == (12, 32, 32, 3)
    whole = stitch_tiles(tf.constant(tiles.images), 2, 3).numpy()
    np.testing.assert_array_equal(whole[0], landscape)
    np.testing.assert_array_equal(whole[1], np.rot90(portrait))   # a quarter counter-clockwise
    assert image_folder(str(tmp_path / "imgs"), 32).images.shape == (12, 32, 32, 3)   # unturned: 6 + 6 tiles, other grid


def test_whole_image_metrics_score_the_reassembled_images():
    """PSNR and SSIM with ``tiles`` equal the metrics of the whole images (not the mean over tiles:
    SSIM's windows cross the seams, and PSNR averages the squared error before the logarithm)."""
    from linksim.catalogue.metrics import PSNR, SSIM, stitch_tiles

    rng = np.random.default_rng(5)
    whole = rng.uniform(0.2, 0.8, (2, 64, 96, 3))
    noise = rng.normal(0, 1, whole.shape) * np.linspace(0.02, 0.3, 96)[None, None, :, None]   # louder to the right
    taps = {k: tf.constant(np.concatenate([cut_patches(im, 32) for im in images]), tf.float32)
            for k, images in (("images", whole), ("output", whole + noise))}
    taps["valid"] = tf.constant([True] * 6 + [False] * 6)
    np.testing.assert_array_equal(stitch_tiles(taps["images"], 2, 3).numpy(), whole.astype(np.float32))

    def mean(metric, valid=True):
        stats = {k: v.numpy() for k, v in metric.build().update(taps if valid else {k: v for k, v in taps.items() if k != "valid"}).items()}
        return stats["sum"] / stats["count"], stats["count"]

    mse = np.mean((whole - (whole + noise)) ** 2, axis=(1, 2, 3))
    assert mean(PSNR(type="psnr", tiles=[2, 3]), valid=False) == (pytest.approx(np.mean(10 * np.log10(1 / mse)), abs=1e-5), 2)
    assert mean(PSNR(type="psnr", tiles=[2, 3])) == (pytest.approx(10 * np.log10(1 / mse[0]), abs=1e-5), 1)   # valid: image 0 only
    ssim = tf.image.ssim(tf.constant(whole, tf.float32), tf.constant(whole + noise, tf.float32), max_val=1.0).numpy()
    assert mean(SSIM(type="ssim", tiles=[2, 3]), valid=False)[0] == pytest.approx(np.mean(ssim), abs=1e-6)
    assert abs(mean(SSIM(type="ssim"), valid=False)[0] - np.mean(ssim)) > 1e-3   # the mean over tiles is another number
    assert abs(mean(PSNR(type="psnr"), valid=False)[0] - np.mean(10 * np.log10(1 / mse))) > 0.1
    with pytest.raises(ValueError, match="cannot be combined"):
        PSNR(type="psnr", tiles=[2, 3], draws=2)


def test_whole_image_metrics_are_checked_against_the_folder(tmp_path, write_scenario, capsys):
    _folder_of_two_orientations(tmp_path / "imgs", np.random.default_rng(6))

    def scenario(turn=True, tiles=(2, 3), batch=6, dataset=None):
        return {"name": "whole", "seed": 1,
                "data": dataset or {"dataset": "image-folder", "path": str(tmp_path / "imgs"), "patch_size": 32, "turn_portrait": turn},
                "snr": {"convention": "snr", "values": [10.0]},
                "montecarlo": {"batch_size": batch, "max_samples": 12, "target_errors": None, "stop_after_error_free": False},
                "curves": [{"name": "awgn", "signal_power": "nominal", "source": {"type": "images"}, "stages": [{"type": "real_awgn"}],
                            "metrics": [{"type": "psnr", "tiles": list(tiles)}]}]}

    assert main(["validate", write_scenario(scenario())]) == 0
    for bad, expected in ((scenario(turn=False), "do not share one tile grid (2×3 tiles: 1 file(s), e.g. "),
                          (scenario(tiles=(3, 2)), "'tiles: [3, 2]' but every test image is 2×3 tiles (rows×cols); write tiles: [2, 3]"),
                          (scenario(batch=4), "multiples of the 6 tiles of an image"),
                          (scenario(dataset={"dataset": "bundled-photos"}), "need the image-folder dataset"),
                          (scenario(dataset={"dataset": "image-folder", "path": str(tmp_path / "imgs"), "patch_size": 48}),
                           "not a whole number of 48×48 tiles")):
        capsys.readouterr()
        assert main(["validate", write_scenario(bad)]) == 2
        err = capsys.readouterr().err
        assert expected in err and err.count("\n") == 1, err
    points = run_scenario(parse_scenario(scenario()))
    assert points[0].stats["psnr"]["count"] == 2   # two whole images, each counted once


def test_whole_image_options_left_at_their_defaults_keep_trained_weights_valid(tmp_path):
    """``turn_portrait`` came after checkpoints existed: at its default it leaves the configuration hash as it was;
    set, it enters it (training crops turned pictures). A metric's ``tiles`` and ``whole_test_images`` change only
    what the sweep scores, never the trained weights: they never enter the hash."""
    from linksim.run.checkpoints import config_hash

    _folder_of_two_orientations(tmp_path / "imgs", np.random.default_rng(7))

    def hashed(metric=None, data=None):
        spec = {"name": "h", "seed": 1, "data": {"dataset": "image-folder", "path": str(tmp_path / "imgs"), "patch_size": 32, **(data or {})},
                "snr": {"convention": "snr", "values": [10.0]},
                "montecarlo": {"batch_size": 6, "max_samples": 12, "target_errors": None},
                "curves": [{"name": "awgn", "signal_power": "nominal", "source": {"type": "images"}, "stages": [{"type": "real_awgn"}],
                            "metrics": [{"type": "psnr", **(metric or {})}]}]}
        scenario = parse_scenario(spec)
        return config_hash(scenario, scenario.curves[0])

    plain = hashed()
    assert hashed({"tiles": None}, {"turn_portrait": False, "whole_test_images": False}) == plain
    turned = hashed(data={"turn_portrait": True})
    assert turned != plain
    assert hashed({"tiles": [2, 3]}, {"turn_portrait": True}) == hashed(data={"turn_portrait": True, "whole_test_images": True}) == turned


def test_whole_test_images_are_the_turned_pictures_and_training_stays_on_crops(tmp_path, write_scenario, capsys):
    landscape, portrait = _folder_of_two_orientations(tmp_path / "imgs", np.random.default_rng(8))
    whole = whole_images(str(tmp_path / "imgs"), turn_portrait=True)
    assert whole.images.shape == (2, 64, 96, 3)
    np.testing.assert_array_equal(whole.images[0], landscape)
    np.testing.assert_array_equal(whole.images[1], np.rot90(portrait))
    with pytest.raises(InputError, match=r"b.png: 96×64 \(height×width\), but .*a.png is 64×96"):
        whole_images(str(tmp_path / "imgs"))

    def scenario(turn=True, metric=None):
        return {"name": "whole", "seed": 1,
                "data": {"dataset": "image-folder", "path": str(tmp_path / "imgs"), "patch_size": 32, "turn_portrait": turn,
                         "whole_test_images": True, "train_crops": 5},
                "snr": {"convention": "snr", "values": [10.0]},
                "montecarlo": {"batch_size": 2, "max_samples": 2, "target_errors": None, "stop_after_error_free": False},
                "curves": [{"name": "awgn", "signal_power": "nominal", "source": {"type": "images"}, "stages": [{"type": "real_awgn"}],
                            "metrics": [metric or {"type": "psnr"}]}]}

    data = parse_scenario(scenario()).data
    assert data.split_shape("test") == (64, 96, 3) and data.split_shape("train") == data.sample_shape == (32, 32, 3)
    assert data.load("train").shape == (5, 32, 32, 3)
    for bad, expected in ((scenario(turn=False), ("differ in size (height×width: 64×96: 1 file(s), e.g. ", "(set turn_portrait: true")),
                          (scenario(metric={"type": "psnr", "tiles": [2, 3]}), ("the test samples are whole images already; remove 'tiles'",))):
        capsys.readouterr()
        assert main(["validate", write_scenario(bad)]) == 2
        err = capsys.readouterr().err
        assert all(part in err for part in expected) and err.count("\n") == 1, err
    points = run_scenario(parse_scenario(scenario()))
    assert points[0].stats["psnr"]["count"] == 2   # the two whole pictures, once each


def test_a_fifo_named_like_an_image_and_a_decompression_bomb_are_refused_without_hanging(tmp_path, write_scenario):
    """Only regular files are read from an image folder, and an image larger than MAX_IMAGE_PIXELS is refused before
    it is decoded: each a one-line exit 2 within seconds (run in a child process, so a hang is a timeout)."""
    import os
    import subprocess
    import sys

    from PIL import Image

    from linksim.catalogue.image_files import MAX_IMAGE_PIXELS

    fifo, bomb = tmp_path / "fifo", tmp_path / "bomb"
    for folder in (fifo, bomb):
        folder.mkdir()
        Image.fromarray(np.zeros((64, 64, 3), np.uint8)).save(folder / "a.png")
    os.mkfifo(fifo / "x.png")
    Image.new("1", (2**13 + 8, 2**13 + 8)).save(bomb / "b.png")  # 1-bit: a small file of more than 2**26 pixels
    assert (2**13 + 8) ** 2 > MAX_IMAGE_PIXELS and (bomb / "b.png").stat().st_size < 2**20
    for folder, expected in ((fifo, "x.png: not a regular file"), (bomb, "b.png: more than 67108864 pixels; refused before decoding")):
        spec = {"name": "f", "data": {"dataset": "image-folder", "path": str(folder), "patch_size": 32, "whole_test_images": False},
                "snr": {"convention": "snr", "values": [10.0]}, "montecarlo": {"batch_size": 4, "max_samples": 4, "target_errors": None},
                "curves": [{"name": "a", "signal_power": "nominal", "source": {"type": "images"}, "stages": [{"type": "real_awgn"}],
                            "metrics": [{"type": "psnr"}]}]}
        path = write_scenario(spec, f"{folder.name}.yaml")
        result = subprocess.run([sys.executable, "-m", "linksim", "run", path, "--out", str(tmp_path / "r.h5"), "--quiet"],
                                capture_output=True, text=True, timeout=120)
        assert result.returncode == 2 and result.stderr.count("\n") == 1 and expected in result.stderr, result.stderr


def test_clipped_psnr_scores_the_received_images_clipped_to_the_data_range():
    """``clip: true`` equals PSNR of np.clip(received, 0, 1); it changes nothing in range and can only
    raise PSNR (the sent images lie in [0, 1])."""
    from linksim.catalogue.metrics import PSNR, SSIM

    rng = np.random.default_rng(3)
    sent = rng.uniform(0, 1, (6, 16, 16, 3))
    received = sent + rng.normal(0, 0.4, sent.shape)  # about a third of the values leave [0, 1]
    taps = {"images": tf.constant(sent, tf.float32), "output": tf.constant(received, tf.float32)}

    def mean_of(metric, taps):
        stats = metric.build().update(taps)
        return float(stats["sum"]) / float(stats["count"])

    def numpy_psnr(a, b):
        return np.mean(10 * np.log10(1.0 / np.mean(np.square(a - b).reshape(len(a), -1), axis=1)))

    clipped, plain = PSNR(type="psnr", clip=True, received="output"), PSNR(type="psnr", received="output")
    assert mean_of(clipped, taps) == pytest.approx(numpy_psnr(sent, np.clip(received, 0, 1)), abs=1e-4)
    assert mean_of(plain, taps) == pytest.approx(numpy_psnr(sent, received), abs=1e-4)
    assert mean_of(clipped, taps) > mean_of(plain, taps) + 1.0
    inside = {"images": taps["images"], "output": tf.constant(np.clip(received, 0, 1), tf.float32)}
    assert mean_of(clipped, inside) == pytest.approx(mean_of(plain, inside), abs=1e-9)
    assert mean_of(SSIM(type="ssim", clip=True, received="output"), taps) > mean_of(SSIM(type="ssim", received="output"), taps)
