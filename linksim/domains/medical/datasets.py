"""CT datasets: volumes ``(D, H, W, 2)`` float32 with the CT (HU clipped to [−400, 400], mapped onto
[0, 1]) in channel 0 and the AMOS label id of each voxel (0 background, 1 … 15 the organs of
:data:`.ct_phantom.AMOS_LABELS`) in channel 1. The loaders live in :mod:`.volume_files`.
"""
import functools
import os
from typing import ClassVar, Literal

from pydantic import Field, ValidationInfo, model_validator

from linksim.catalogue.datasets import DatasetParams, Side, checks_data_files
from linksim.engine.registry import register

__all__ = ["CTPhantom", "AMOS", "DICOMSeries", "NUM_CT_CLASSES"]

NUM_CT_CLASSES = 16  # the CT datasets' labels: background and the 15 AMOS organs


class _CTVolumes(DatasetParams):
    """CT volumes resampled to ``shape`` = [D, H, W]: samples ``(D, H, W, 2)`` float32 (CT in [0, 1], label id)."""

    shape: list[Side] = Field(default=[16, 64, 64], min_length=3, max_length=3)

    stored_max: ClassVar[float] = 1.0
    value_range: ClassVar[tuple[float, float]] = (0.0, float(NUM_CT_CLASSES - 1))  # the label channel; the CT is in [0, 1]

    @property
    def sample_shape(self):
        return (*self.shape, 2)


def _samples(ct_hu, labels):
    """[N, D, H, W] HU and labels → [N, D, H, W, 2] float32 samples."""
    import numpy as np

    from linksim.domains.medical.ct_phantom import hu_to_unit

    return np.stack([hu_to_unit(ct_hu), labels.astype(np.float32)], -1)


@functools.lru_cache(maxsize=8)
def _phantom_split(first_seed, count, shape):
    from linksim.domains.medical.ct_phantom import phantom_patients

    return _samples(*phantom_patients(first_seed, count, shape))


@register("dataset", "ct-phantom")
class CTPhantom(_CTVolumes):
    """Procedural abdominal CT phantom (linksim.domains.medical.ct_phantom), one volume per patient, split by patient
    (train: seeds 0 … train_patients − 1; test: seeds from 1 000 000)."""

    dataset: Literal["ct-phantom"]
    train_patients: int = Field(default=24, ge=1, le=100_000)
    test_patients: int = Field(default=4, ge=1, le=100_000)

    def load(self, split, seed=0):
        first, count = (0, self.train_patients) if split == "train" else (1_000_000, self.test_patients)
        return _phantom_split(first, count, tuple(self.shape))

    def train_size(self, seed=0):
        return self.train_patients


@register("dataset", "amos")
class AMOS(_CTVolumes):
    """AMOS-layout NIfTI (``path``/imagesTr + labelsTr for training, imagesVa + labelsVa for testing),
    resampled to ``shape`` (trilinear CT, nearest labels).

    ``modality``: AMOS22 mixes CT (``amos_<id>``, id below 500) and MRI (500 and up) cases; the
    CT datasets here read CT only unless ``mri`` or ``all`` is asked for."""

    dataset: Literal["amos"]
    path: str = Field(min_length=1, max_length=4096)
    modality: Literal["ct", "mri", "all"] = "ct"

    @model_validator(mode="after")
    def _folders_exist(self, info: ValidationInfo):
        from linksim.domains.medical.volume_files import AMOS_SPLITS

        if not checks_data_files(info):
            return self
        for folder in (d for pair in AMOS_SPLITS.values() for d in pair):
            if not os.path.isdir(os.path.join(self.path, folder)):
                raise ValueError(f"no folder {folder!r} in {self.path!r}; expected the AMOS layout (imagesTr, labelsTr, imagesVa, labelsVa)")
        return self

    def load(self, split, seed=0):
        import numpy as np

        from linksim.domains.medical.volume_files import amos_cases, load_nifti_volume, resize_volume

        cases = amos_cases(self.path, "train" if split == "train" else "validation", self.modality)
        ct = [resize_volume(load_nifti_volume(image), self.shape) for image, _ in cases]
        labels = [resize_volume(load_nifti_volume(label, labels=True), self.shape, labels=True) for _, label in cases]
        return _samples(np.stack(ct), np.stack(labels))


@register("dataset", "dicom")
class DICOMSeries(_CTVolumes):
    """DICOM CT series without labels (``path``: one sub-folder per series), resampled to ``shape``;
    the label channel is 0, so a link must segment the CT itself. Test split only."""

    dataset: Literal["dicom"]
    path: str = Field(min_length=1, max_length=4096)

    @model_validator(mode="after")
    def _folder_exists(self, info: ValidationInfo):
        if not checks_data_files(info):
            return self
        if not os.path.isdir(self.path):
            raise ValueError(f"no such folder {self.path!r}; expected one sub-folder of DICOM files per series")
        if not any(os.path.isdir(os.path.join(self.path, f)) for f in os.listdir(self.path)):
            raise ValueError(f"no series sub-folders in {self.path!r}; expected one sub-folder of DICOM files per series")
        return self

    def load(self, split, seed=0):
        import numpy as np

        from linksim.engine.errors import InputError
        from linksim.domains.medical.volume_files import load_dicom_series, resize_volume

        if split != "test":
            raise InputError(f"{self.path}: a DICOM dataset has no labels and serves the test split only; train on ct-phantom or amos")
        folders = sorted(os.path.join(self.path, f) for f in os.listdir(self.path) if os.path.isdir(os.path.join(self.path, f)))
        ct = np.stack([resize_volume(load_dicom_series(f), self.shape) for f in folders])
        return _samples(ct, np.zeros(ct.shape, np.uint8))
