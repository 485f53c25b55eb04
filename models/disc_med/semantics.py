"""DiSC-Med's semantic extraction: the per-slice edge map of coarse anatomical masks.

The paper draws "diversified coarse anatomical masks" with MedSAM and runs the Canny detector on
them. MedSAM's weights cannot be had here; the coarse masks are the organ labels (the dataset's, or a
segmentation model's) and, where the CT is at hand, the two masks a HU threshold gives — the body
(above −360 HU: everything but air) and bone (above 300 HU) — so the edges hold the organ
boundaries, the body outline and the bone contours. Canny (scikit-image) runs on each axial slice of
the map of these regions.
"""
import numpy as np

__all__ = ["BODY_LEVEL", "BONE_LEVEL", "coarse_masks", "edge_volume"]

BODY_LEVEL, BONE_LEVEL = 0.05, 0.875  # −360 HU and 300 HU in the [−400, 400] HU window mapped onto [0, 1]


def edge_volume(labels: np.ndarray, sigma: float = 1.0) -> np.ndarray:
    """Canny edges of each axial slice of a label map.

    Input
    -----
    labels : [D, H, W] integer label map

    Output
    ------
    : [D, H, W] uint8 in {0, 1}
    """
    from skimage.feature import canny

    labels = np.asarray(labels)
    edges = np.zeros(labels.shape, np.uint8)
    for d, slice_ in enumerate(labels):
        if slice_.max() > slice_.min():
            edges[d] = canny(slice_.astype(np.float64), sigma=sigma, low_threshold=0.1, high_threshold=0.5)
    return edges


def coarse_masks(labels: np.ndarray, ct: np.ndarray) -> np.ndarray:
    """One region map of the organs, the rest of the body and bone.

    Input: labels [D, H, W] (0 background, 1 … C − 1 organs), ct [D, H, W] in [0, 1].
    Output: [D, H, W] int64 — the organ label, else C for body tissue, C + 1 for bone, 0 for air.
    """
    labels = np.asarray(labels).astype(np.int64)
    count = int(labels.max(initial=0)) + 1
    regions = np.where(ct > BODY_LEVEL, max(count, 16), 0)
    regions = np.where(ct > BONE_LEVEL, max(count, 16) + 1, regions)
    return np.where(labels > 0, labels, regions)
