"""Loaders of CT volumes a user owns: AMOS-layout NIfTI and DICOM series (local files only).

Every volume comes out as ``[D, H, W]`` in Hounsfield units with D from superior to inferior, H
from anterior to posterior and W from the patient's right to left (image left = patient right,
as radiology displays axial slices); label maps come out in the same orientation.

- AMOS layout: ``<root>/imagesTr/<case>.nii.gz`` with ``<root>/labelsTr/<case>.nii.gz`` (and
  ``imagesVa``/``labelsVa``), read with nibabel and reoriented through its closest canonical (RAS+)
  form. AMOS22 holds CT and MRI cases: ``amos_<id>`` with id below 500 is CT, 500 and up MRI
  (the challenge's numbering); CT is read unless MRI is asked for.
- DICOM: one folder per series, read with pydicom; slices ordered by ImagePositionPatient along
  the slice normal, HU = stored value × RescaleSlope + RescaleIntercept.

Problems with the files are one-line :class:`linksim.engine.errors.InputError` messages naming the file.
"""
import os

import numpy as np
from scipy import ndimage

from linksim.engine.errors import InputError

__all__ = ["AMOS_SPLITS", "AMOS_FIRST_MRI_ID", "amos_cases", "amos_modality", "load_nifti_volume", "load_dicom_series", "resize_volume"]

AMOS_SPLITS = {"train": ("imagesTr", "labelsTr"), "validation": ("imagesVa", "labelsVa")}
NIFTI_SUFFIXES = (".nii.gz", ".nii")
AMOS_FIRST_MRI_ID = 500  # AMOS22: amos_0001 … amos_0499 are CT scans, amos_0500 and up MRI


def load_nifti_volume(path: str, labels: bool = False) -> np.ndarray:
    """One NIfTI file as ``[D, H, W]`` (float32 HU, or uint8 labels)."""
    import nibabel

    try:
        image = nibabel.as_closest_canonical(nibabel.load(path))  # RAS+: x → right, y → anterior, z → superior
        data = np.asarray(image.dataobj)
    except FileNotFoundError:
        raise InputError(f"{path}: no such NIfTI file") from None
    except Exception as exc:  # nibabel raises several types for damaged or foreign files
        raise InputError(f"{path}: not a readable NIfTI file ({type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''})") from None
    if data.ndim != 3:
        raise InputError(f"{path}: expected a 3D volume, got shape {data.shape}")
    # (x → right, y → anterior, z → superior) → (z from superior, y from anterior, x from the patient's right)
    volume = np.ascontiguousarray(np.transpose(data, (2, 1, 0))[::-1, ::-1, ::-1])
    if labels:
        if not np.allclose(volume, np.round(volume)) or volume.min() < 0 or volume.max() > 255:
            raise InputError(f"{path}: a label map must hold integers 0…255")
        return volume.astype(np.uint8)
    return volume.astype(np.float32)


def amos_modality(path: str) -> str:
    """``ct`` or ``mri`` of an AMOS22 case from its file name ``amos_<id>.nii.gz``; ``InputError`` for
    a name without an id."""
    import re

    match = re.fullmatch(r"amos_(\d+)\.nii(\.gz)?", os.path.basename(path))
    if match is None:
        raise InputError(f"{path}: cannot tell CT from MRI by the name (expected amos_<id>.nii.gz); set 'modality: all' to read every case")
    return "ct" if int(match.group(1)) < AMOS_FIRST_MRI_ID else "mri"


def amos_cases(root: str, split: str = "train", modality: str = "ct") -> list[tuple[str, str]]:
    """``(image path, label path)`` of the cases of an AMOS-layout folder, sorted by case name:
    the CT ones (``modality="ct"``), the MRI ones (``"mri"``) or all (``"all"``)."""
    images_dir, labels_dir = (os.path.join(root, d) for d in AMOS_SPLITS[split])
    if not os.path.isdir(images_dir):
        raise InputError(f"{images_dir}: no such folder; expected the AMOS layout ({'/'.join(AMOS_SPLITS[split])} with .nii.gz files)")
    named = sorted(f for f in os.listdir(images_dir) if f.endswith(NIFTI_SUFFIXES))
    odd = [f for f in named if not os.path.isfile(os.path.join(images_dir, f))]
    if odd:  # a FIFO or device would block or never end
        raise InputError(f"{os.path.join(images_dir, odd[0])}: not a regular file")
    cases = named
    if not cases:
        raise InputError(f"{images_dir}: no .nii.gz files")
    if modality != "all":
        cases = [c for c in cases if amos_modality(os.path.join(images_dir, c)) == modality]
        if not cases:
            raise InputError(f"{images_dir}: no {modality.upper()} case (AMOS ids {'below' if modality == 'ct' else 'from'} "
                             f"{AMOS_FIRST_MRI_ID}); set 'modality' to read the others")
    missing = [c for c in cases if not os.path.isfile(os.path.join(labels_dir, c))]
    if missing:
        raise InputError(f"{os.path.join(labels_dir, missing[0])}: no label map for image {missing[0]}")
    return [(os.path.join(images_dir, c), os.path.join(labels_dir, c)) for c in cases]


def load_dicom_series(folder: str) -> np.ndarray:
    """The CT series of one folder as ``[D, H, W]`` float32 HU, superior slice first."""
    import pydicom

    if not os.path.isdir(folder):
        raise InputError(f"{folder}: no such DICOM folder")
    slices = []
    for name in sorted(os.listdir(folder)):
        path = os.path.join(folder, name)
        if not os.path.isfile(path):
            continue
        try:
            dataset = pydicom.dcmread(path)
            pixels = dataset.pixel_array.astype(np.float32)
            position = np.asarray(dataset.ImagePositionPatient, np.float64)
            orientation = np.asarray(dataset.ImageOrientationPatient, np.float64)
        except Exception as exc:  # pydicom raises several types for damaged, foreign or incomplete files
            raise InputError(f"{path}: not a readable CT slice ({type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''})") from None
        hu = pixels * float(getattr(dataset, "RescaleSlope", 1.0)) + float(getattr(dataset, "RescaleIntercept", 0.0))
        normal = np.cross(orientation[:3], orientation[3:])
        slices.append((float(position @ normal), hu, path))
    if not slices:
        raise InputError(f"{folder}: no DICOM files")
    shapes = {s[1].shape for s in slices}
    if len(shapes) > 1:
        raise InputError(f"{folder}: slices of different sizes {sorted(shapes)}")
    # LPS patient axes: the slice normal of an axial series points superior, so the largest position is the top slice
    slices.sort(key=lambda s: -s[0])
    return np.stack([s[1] for s in slices])


def resize_volume(volume: np.ndarray, shape, labels: bool = False) -> np.ndarray:
    """Resample a ``[D, H, W]`` volume to ``shape``: trilinear for CT, nearest for label maps."""
    factors = [n / m for n, m in zip(shape, volume.shape)]
    resized = ndimage.zoom(volume, factors, order=0 if labels else 1, mode="nearest", grid_mode=labels)
    return resized[: shape[0], : shape[1], : shape[2]].astype(volume.dtype)
