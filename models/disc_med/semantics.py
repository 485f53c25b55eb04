"""DiSC-Med's semantic extraction: the per-slice edge map of a segmentation volume.

The paper draws coarse anatomical masks with MedSAM and runs the Canny detector on them. MedSAM's
weights cannot be had here; the masks are the segmentation labels themselves (the dataset's, or a
segmentation model's), and Canny (scikit-image) runs on each axial slice of the label map, so the
edges are the organ boundaries, as on MedSAM's masks.
"""
import numpy as np

__all__ = ["edge_volume"]


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
