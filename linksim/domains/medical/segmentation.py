"""Overlap and surface-distance scores of label maps (2D or 3D), per class.

Conventions, as in medical image segmentation benchmarks:

- Dice_c = 2·TP / (2·TP + FP + FN), IoU_c = TP / (TP + FP + FN); so IoU = Dice / (2 − Dice) for
  every class. A class absent from both maps has no score (``nan``).
- the weighted mean IoU averages the per-class IoU weighted by the class's voxel count in the
  reference (classes present in the reference only, background excluded unless asked for).
- HD95: the symmetric 95th-percentile Hausdorff distance between the class's surfaces. Surface
  voxels are the class voxels with a 6-connected (4 in 2D) neighbour outside the class; the
  distance from each surface voxel of one map to the nearest surface voxel of the other comes from
  SciPy's exact Euclidean distance transform (with the voxel ``spacing``); the 95th percentile is
  taken per direction and the larger one reported. If either map lacks the class, HD95 is undefined
  and reported as ``None`` ("fail"), never as a number.
"""
import numpy as np
from scipy import ndimage

__all__ = ["confusion_counts", "dice", "iou", "weighted_mean_iou", "surface", "hd95"]


def confusion_counts(prediction: np.ndarray, reference: np.ndarray, label: int) -> tuple[int, int, int]:
    """(TP, FP, FN) voxel counts of ``label`` between two integer label maps of one shape."""
    if prediction.shape != reference.shape:
        raise ValueError(f"label maps of different shapes: {prediction.shape} and {reference.shape}")
    predicted, actual = prediction == label, reference == label
    return int(np.sum(predicted & actual)), int(np.sum(predicted & ~actual)), int(np.sum(~predicted & actual))


def dice(prediction, reference, label) -> float:
    """Dice of ``label``; ``nan`` where the class is in neither map."""
    tp, fp, fn = confusion_counts(prediction, reference, label)
    return 2 * tp / (2 * tp + fp + fn) if tp + fp + fn else float("nan")


def iou(prediction, reference, label) -> float:
    """Intersection over union of ``label``; ``nan`` where the class is in neither map."""
    tp, fp, fn = confusion_counts(prediction, reference, label)
    return tp / (tp + fp + fn) if tp + fp + fn else float("nan")


def weighted_mean_iou(prediction, reference, labels) -> float:
    """Mean IoU over ``labels`` weighted by each label's voxel count in ``reference``."""
    weights = np.array([np.sum(reference == label) for label in labels], np.float64)
    if not weights.sum():
        return float("nan")
    scores = np.array([iou(prediction, reference, label) if w else 0.0 for label, w in zip(labels, weights)])
    return float(np.sum(weights * scores) / weights.sum())


def surface(mask: np.ndarray) -> np.ndarray:
    """Voxels of a boolean mask with a face-neighbour outside it (the image border counts as outside)."""
    mask = np.asarray(mask, bool)
    interior = ndimage.binary_erosion(mask, structure=ndimage.generate_binary_structure(mask.ndim, 1), border_value=0)
    return mask & ~interior


def _distances_to(surface_from: np.ndarray, surface_to: np.ndarray, spacing) -> np.ndarray:
    """Distance from every voxel of ``surface_from`` to the nearest voxel of ``surface_to``."""
    return ndimage.distance_transform_edt(~surface_to, sampling=spacing)[surface_from]


def hd95(prediction, reference, label, spacing=None) -> float | None:
    """Symmetric 95th-percentile surface distance of ``label``, in units of ``spacing`` (default:
    voxels); ``None`` where either map lacks the class."""
    predicted, actual = surface(np.asarray(prediction) == label), surface(np.asarray(reference) == label)
    if not predicted.any() or not actual.any():
        return None
    spacing = spacing or (1.0,) * predicted.ndim
    return float(max(np.percentile(_distances_to(predicted, actual, spacing), 95),
                     np.percentile(_distances_to(actual, predicted, spacing), 95)))
