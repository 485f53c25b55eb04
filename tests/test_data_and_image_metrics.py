"""Datasets (bundled photos, CIFAR-10 binary, image folders), data order, image metrics."""
import numpy as np
import pytest
import tensorflow as tf
from PIL import Image

from linksim.cli import main
from linksim.catalogue.image_files import (BUNDLED_TEST, BUNDLED_TRAIN, batches, bundled_photos, cifar10, cut_patches, epoch_order,
                          image_folder, load_photo, random_crops)
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
