"""A seeded procedural phantom of abdominal CT volumes with AMOS organ labels.

No CT data can be downloaded here, so the default medical data is generated: each patient is an
axial stack from the liver dome to the pelvis with a body outline, subcutaneous and visceral fat,
an abdominal wall of muscle, the spine with its canal, and the 15 AMOS organs (ids below) as
smooth, deformed superellipsoids and tubes. Patients differ in body size, organ sizes and
positions and in a smooth random deformation of the whole anatomy; every tissue has its own
contrast-enhanced (portal-venous) HU level, a smooth texture and voxel noise.

Geometry: a volume is ``[D, H, W]`` = (superior → inferior, anterior → posterior, image left →
image right); image left is the patient's right, as radiology displays it. Positions below are in
normalised coordinates: z ∈ [0, 1] from top to bottom slice, y and x ∈ [−1, 1].

This is a test object with plausible anatomy and intensities, not a substitute for real scans:
results on it show that a pipeline works and how it degrades, not clinical performance.
"""
from dataclasses import dataclass

import numpy as np
from scipy import ndimage

__all__ = ["AMOS_LABELS", "HU_RANGE", "Organ", "ORGANS", "phantom_volume", "phantom_patients", "hu_to_unit"]

AMOS_LABELS = {
    1: "spleen", 2: "right kidney", 3: "left kidney", 4: "gallbladder", 5: "esophagus", 6: "liver", 7: "stomach",
    8: "aorta", 9: "postcava", 10: "pancreas", 11: "right adrenal gland", 12: "left adrenal gland", 13: "duodenum",
    14: "bladder", 15: "prostate/uterus",
}
HU_RANGE = (-400.0, 400.0)  # the clip window of the paper's preprocessing

AIR, FAT, MUSCLE, BONE, MARROW, CSF = -1000.0, -100.0, 50.0, 700.0, 250.0, 10.0


@dataclass(frozen=True)
class Organ:
    """One labelled structure: a superellipsoid (``power`` 2: an ellipsoid) centred at
    ``centre`` (z, y, x) with semi-axes ``radii``, kept between ``z_range``; or, for a ``tube``, a
    vertical cylinder of radii (y, x) whose centre follows ``centre`` plus a drift per unit z.

    ``hu``: mean intensity; ``texture``: standard deviation of its smooth texture (HU).
    """

    label: int
    centre: tuple
    radii: tuple
    hu: float
    texture: float = 12.0
    z_range: tuple = (0.0, 1.0)
    power: float = 2.0
    tube: bool = False
    drift: tuple = (0.0, 0.0)


# Painted in this order (later ones win where shapes overlap).
ORGANS = (
    Organ(6, (0.22, -0.02, -0.36), (0.28, 0.50, 0.48), 105.0, 10.0, (0.0, 0.48)),            # liver
    Organ(1, (0.25, 0.22, 0.52), (0.15, 0.22, 0.17), 120.0, 10.0, (0.08, 0.42)),             # spleen
    Organ(7, (0.20, -0.18, 0.28), (0.16, 0.26, 0.25), 35.0, 15.0, (0.04, 0.38), 2.5),       # stomach
    Organ(5, (0.0, 0.14, 0.05), (0.0, 0.06, 0.06), 45.0, 8.0, (0.0, 0.14), tube=True),      # esophagus
    Organ(8, (0.0, 0.22, 0.10), (0.0, 0.075, 0.07), 170.0, 8.0, (0.0, 0.78), tube=True),   # aorta
    Organ(9, (0.0, 0.17, -0.14), (0.0, 0.08, 0.07), 140.0, 8.0, (0.0, 0.74), tube=True),    # postcava
    Organ(11, (0.30, 0.22, -0.26), (0.06, 0.07, 0.04), 40.0, 6.0, (0.24, 0.36)),           # right adrenal
    Organ(12, (0.29, 0.24, 0.27), (0.06, 0.07, 0.04), 40.0, 6.0, (0.23, 0.35)),            # left adrenal
    Organ(2, (0.47, 0.28, -0.36), (0.14, 0.17, 0.13), 170.0, 15.0, (0.33, 0.62)),           # right kidney
    Organ(3, (0.44, 0.28, 0.36), (0.14, 0.17, 0.13), 170.0, 15.0, (0.30, 0.59)),            # left kidney
    Organ(4, (0.40, -0.24, -0.30), (0.08, 0.10, 0.08), 10.0, 5.0, (0.32, 0.48)),            # gallbladder
    Organ(13, (0.47, -0.02, -0.22), (0.10, 0.11, 0.11), 35.0, 12.0, (0.38, 0.57), 2.0),     # duodenum
    Organ(10, (0.41, 0.04, 0.12), (0.06, 0.08, 0.34), 95.0, 10.0, (0.35, 0.48)),            # pancreas
    Organ(14, (0.90, -0.08, 0.0), (0.10, 0.24, 0.26), 10.0, 4.0, (0.80, 1.0)),              # bladder
    Organ(15, (0.97, 0.18, 0.0), (0.06, 0.10, 0.11), 45.0, 8.0, (0.90, 1.0)),               # prostate/uterus
)


def _smooth_field(rng, shape, knots, amplitude):
    """A smooth random field: Gaussian values on a ``knots`` grid, cubic-interpolated to ``shape``."""
    coarse = rng.normal(0.0, amplitude, knots)
    return ndimage.zoom(coarse, [s / k for s, k in zip(shape, knots)], order=3, mode="nearest")[tuple(slice(0, s) for s in shape)]


def phantom_volume(seed: int, shape=(32, 64, 64)) -> tuple[np.ndarray, np.ndarray]:
    """One patient: (CT in HU, labels).

    Output
    ------
    ct : [D, H, W] float32, Hounsfield units
    labels : [D, H, W] uint8, 0 (background) or an AMOS id
    """
    depth, height, width = shape
    rng = np.random.default_rng(seed)
    z, y, x = np.meshgrid(np.linspace(0.0, 1.0, depth), np.linspace(-1.0, 1.0, height), np.linspace(-1.0, 1.0, width),
                          indexing="ij")
    # the patient's anatomy is displaced by a smooth field (a few voxels)
    y = y + _smooth_field(rng, shape, (3, 3, 3), 0.03)
    x = x + _smooth_field(rng, shape, (3, 3, 3), 0.03)
    body_scale = rng.uniform(0.85, 1.05)
    body = (x / (0.88 * body_scale)) ** 2 + ((y - 0.02) / (0.62 * body_scale)) ** 2 <= 1.0
    fat_layer = rng.uniform(0.05, 0.12)  # subcutaneous fat thickness, normalised
    wall = (x / (0.88 * body_scale - fat_layer)) ** 2 + ((y - 0.02) / (0.62 * body_scale - fat_layer)) ** 2 <= 1.0
    cavity = (x / (0.88 * body_scale - fat_layer - 0.05)) ** 2 + ((y - 0.02) / (0.62 * body_scale - fat_layer - 0.05)) ** 2 <= 1.0

    ct = np.full(shape, AIR, np.float32)
    ct[body] = FAT
    ct[wall & ~cavity] = MUSCLE
    ct[cavity] = FAT + 20.0  # visceral fat and unlabelled bowel
    bowel = cavity & (_smooth_field(rng, shape, (6, 8, 8), 1.0) > 0.6)
    ct[bowel] = 30.0

    vertebra = (((x - 0.0) / 0.13) ** 2 + ((y - 0.42 * body_scale) / 0.12) ** 2) <= 1.0
    canal = (((x - 0.0) / 0.045) ** 2 + ((y - 0.55 * body_scale) / 0.04) ** 2) <= 1.0
    ct[vertebra] = MARROW
    ct[vertebra & ~ndimage.binary_erosion(vertebra, iterations=1)] = BONE
    ct[canal] = CSF
    psoas = ((np.abs(x) - 0.2) / 0.08) ** 2 + ((y - 0.40 * body_scale) / 0.10) ** 2 <= 1.0
    ct[psoas & (z > 0.45)] = MUSCLE

    labels = np.zeros(shape, np.uint8)
    texture_field = _smooth_field(rng, shape, (8, 16, 16), 1.0)
    for organ in ORGANS:
        size = rng.uniform(0.85, 1.15)
        cz, cy, cx = (c + rng.uniform(-0.03, 0.03) for c in organ.centre)
        cy, cx = cy * body_scale, cx * body_scale
        if organ.tube:
            ry, rx = (r * size for r in organ.radii[1:])
            inside = (((y - cy - organ.drift[0] * z) / ry) ** 2 + ((x - cx - organ.drift[1] * z) / rx) ** 2) <= 1.0
        else:
            rz, ry, rx = (r * size * (body_scale if i else 1.0) for i, r in enumerate(organ.radii))
            p = organ.power
            inside = np.abs((z - cz) / rz) ** p + np.abs((y - cy) / ry) ** p + np.abs((x - cx) / rx) ** p <= 1.0
        inside &= (z >= organ.z_range[0]) & (z <= organ.z_range[1]) & cavity
        labels[inside] = organ.label
        hu = organ.hu + rng.normal(0.0, 8.0)  # enhancement differs from patient to patient
        ct[inside] = hu + organ.texture * texture_field[inside]
    ct += rng.normal(0.0, 12.0, shape).astype(np.float32)  # quantum noise
    ct[~body] = AIR + rng.normal(0.0, 5.0, int(np.sum(~body)))
    return ct.astype(np.float32), labels


def phantom_patients(first_seed: int, count: int, shape=(32, 64, 64)) -> tuple[np.ndarray, np.ndarray]:
    """``count`` patients with seeds ``first_seed``, ``first_seed`` + 1, …: ([N, D, H, W] HU, [N, D, H, W] labels)."""
    volumes = [phantom_volume(first_seed + i, shape) for i in range(count)]
    return np.stack([v[0] for v in volumes]), np.stack([v[1] for v in volumes])


def hu_to_unit(ct: np.ndarray, window=HU_RANGE) -> np.ndarray:
    """Clip to the HU ``window`` and map it linearly onto [0, 1] (float32)."""
    low, high = window
    return ((np.clip(ct, low, high) - low) / (high - low)).astype(np.float32)
