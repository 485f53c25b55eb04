"""Dice, IoU, weighted mean IoU and HD95 against cases whose values are known exactly."""
import numpy as np
import pytest

from linksim.domains.medical.segmentation import confusion_counts, dice, hd95, iou, surface, weighted_mean_iou


def cube(shape=(24, 24, 24), corner=(4, 4, 4), side=10, label=1):
    volume = np.zeros(shape, np.int64)
    z, y, x = corner
    volume[z:z + side, y:y + side, x:x + side] = label
    return volume


@pytest.mark.parametrize("shift", [1, 2, 3, 5])
def test_a_cube_shifted_by_s_voxels_has_hd95_s_and_known_overlap(shift):
    reference, prediction = cube(), cube(corner=(4, 4, 4 + shift))
    assert hd95(prediction, reference, 1) == pytest.approx(shift)
    overlap = 10 * 10 * (10 - shift)
    assert confusion_counts(prediction, reference, 1) == (overlap, 1000 - overlap, 1000 - overlap)
    assert dice(prediction, reference, 1) == pytest.approx(overlap / 1000)
    assert iou(prediction, reference, 1) == pytest.approx(overlap / (2000 - overlap))


def test_hd95_uses_the_voxel_spacing_and_is_symmetric():
    reference, prediction = cube(), cube(corner=(4, 4, 7))
    assert hd95(prediction, reference, 1, spacing=(2.5, 0.8, 0.8)) == pytest.approx(3 * 0.8)
    assert hd95(reference, prediction, 1) == hd95(prediction, reference, 1)


def test_iou_equals_dice_over_two_minus_dice_for_every_class():
    rng = np.random.default_rng(3)
    reference = rng.integers(0, 5, (16, 20, 20))
    prediction = np.where(rng.random(reference.shape) < 0.3, rng.integers(0, 5, reference.shape), reference)
    for label in range(5):
        d = dice(prediction, reference, label)
        assert iou(prediction, reference, label) == pytest.approx(d / (2 - d))


def test_identical_maps_score_perfectly_and_an_empty_prediction_fails():
    reference = cube(label=6)
    assert dice(reference, reference, 6) == 1.0 and iou(reference, reference, 6) == 1.0 and hd95(reference, reference, 6) == 0.0
    empty = np.zeros_like(reference)
    assert hd95(empty, reference, 6) is None  # reported as "fail", never a number
    assert dice(empty, reference, 6) == 0.0
    assert np.isnan(dice(empty, empty, 6))  # the class is in neither map: no score


def test_weighted_mean_iou_weights_by_reference_voxels():
    reference = np.zeros((10, 10), np.int64)
    reference[:, :6] = 1   # 60 voxels
    reference[:, 6:] = 2   # 40 voxels
    prediction = reference.copy()
    prediction[:, 5] = 2   # class 1 loses 10 voxels to class 2
    iou1, iou2 = 50 / 60, 40 / 50
    assert weighted_mean_iou(prediction, reference, [1, 2]) == pytest.approx(0.6 * iou1 + 0.4 * iou2)


def test_the_surface_of_a_cube_is_its_shell():
    shell = surface(cube() == 1)
    assert shell.sum() == 10 ** 3 - 8 ** 3
