"""Catalogue of datasets: what ``images`` sources send and what training reads.

A dataset declares its sample shape and value range: :meth:`DatasetParams.load` gives the
samples of a split as stored (``[N, *sample_shape]``, e.g. ``uint8``), and a sample divided by
``stored_max`` lies in ``value_range``. Images are ``(H, W, 3)``; CT volumes are ``(D, H, W, 2)``
float32 with the CT (HU clipped to [−400, 400], mapped onto [0, 1]) in channel 0 and the AMOS
label id of each voxel (0 background, 1 … 15 the organs of :data:`linksim.ct_phantom.AMOS_LABELS`)
in channel 1. Validation checks cheaply that the files are where they
must be (nothing is decoded, nothing is ever downloaded); the loaders live in
:mod:`linksim.data`. Paths are relative to the working directory.
"""
import functools
import os
from abc import abstractmethod
from typing import Annotated, ClassVar, Literal

from pydantic import Field, model_validator

from linksim.registry import Params, register

__all__ = ["DatasetParams", "BundledPhotos", "CIFAR10", "ImageFolder", "CTPhantom", "AMOS", "DICOMSeries", "DEFAULT_DATASET",
           "NUM_CT_CLASSES"]

DEFAULT_DATASET = "bundled-photos"
NUM_CT_CLASSES = 16  # the CT datasets' labels: background and the 15 AMOS organs
Side = Annotated[int, Field(ge=2, le=4096)]


class DatasetParams(Params):
    """Common fields: the training order and the input pipeline's prefetch depth."""

    shuffle: bool = True  # training order, a pure function of (seed, stage, epoch)
    prefetch: int = Field(default=2, ge=0, le=64)

    value_range: ClassVar[tuple[float, float]] = (0.0, 1.0)
    stored_max: ClassVar[float] = 255.0

    @property
    @abstractmethod
    def sample_shape(self) -> tuple[int, ...]:
        """Shape of one sample, e.g. ``(H, W, 3)``."""

    @abstractmethod
    def load(self, split: str, seed: int = 0):
        """The samples of ``split`` (``train`` or ``test``), ``[N, *sample_shape]`` as stored."""


class _Images(DatasetParams):
    """RGB images cut or cropped to ``patch_size`` squares: samples ``(patch_size, patch_size, 3)`` uint8."""

    patch_size: int = Field(default=32, ge=11, le=4096)

    @property
    def sample_shape(self):
        return (self.patch_size, self.patch_size, 3)


@register("dataset", "bundled-photos")
class BundledPhotos(_Images):
    """The photographs inside the scikit-image and scikit-learn wheels, cut into patches, split by photo."""

    dataset: Literal["bundled-photos"]

    def load(self, split, seed=0):
        from linksim.data import bundled_photos

        return bundled_photos(split, self.patch_size).images


@register("dataset", "cifar10")
class CIFAR10(_Images):
    """CIFAR-10, official binary edition (``path``: the folder holding cifar-10-batches-bin)."""

    dataset: Literal["cifar10"]
    path: str = Field(min_length=1, max_length=4096)

    @model_validator(mode="after")
    def _files_exist(self):
        if self.patch_size != 32:
            raise ValueError("CIFAR-10 images are 32×32: 'patch_size' must be 32")
        path = self.path
        directory = os.path.join(path, "cifar-10-batches-bin") if os.path.isdir(os.path.join(path, "cifar-10-batches-bin")) else path
        if not os.path.isdir(path):
            raise ValueError(f"no such folder {path!r}; expected the CIFAR-10 binary edition (cifar-10-batches-bin with data_batch_1.bin … test_batch.bin)")
        if not os.path.isfile(os.path.join(directory, "test_batch.bin")):
            if os.path.exists(os.path.join(path, "cifar-10-batches-py")) or os.path.exists(os.path.join(directory, "data_batch_1")):
                raise ValueError(f"{path!r} holds the Python (pickle) edition of CIFAR-10, which is refused because unpickling "
                                 "can run code; use the binary edition (cifar-10-batches-bin)")
            raise ValueError(f"no test_batch.bin in {directory!r}; expected the CIFAR-10 binary edition (cifar-10-batches-bin)")
        return self

    def load(self, split, seed=0):
        from linksim.data import cifar10

        return cifar10(self.path, split).images


@register("dataset", "image-folder")
class ImageFolder(_Images):
    """PNG/JPEG files: tiles of ``path`` for testing, ``train_crops`` random crops of ``train_path``
    (default ``path``) for training."""

    dataset: Literal["image-folder"]
    path: str = Field(min_length=1, max_length=4096)
    train_path: str | None = Field(default=None, min_length=1, max_length=4096)
    train_crops: int = Field(default=10_000, ge=1, le=10**7)

    @model_validator(mode="after")
    def _files_exist(self):
        from linksim.data import IMAGE_SUFFIXES

        for key, folder in (("path", self.path), ("train_path", self.train_path)):
            if folder is None:
                continue
            if not os.path.isdir(folder):
                raise ValueError(f"no such folder {folder!r} ({key}); expected a folder of .png/.jpg images")
            if not any(f.lower().endswith(IMAGE_SUFFIXES) for f in os.listdir(folder)):
                raise ValueError(f"no .png/.jpg/.jpeg files in {folder!r} ({key})")
        return self

    def load(self, split, seed=0):
        from linksim.data import image_folder, random_crops

        if split == "test":
            return image_folder(self.path, self.patch_size).images
        return random_crops(self.train_path or self.path, self.patch_size, self.train_crops, seed).images


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

    from linksim.ct_phantom import hu_to_unit

    return np.stack([hu_to_unit(ct_hu), labels.astype(np.float32)], -1)


@functools.lru_cache(maxsize=8)
def _phantom_split(first_seed, count, shape):
    from linksim.ct_phantom import phantom_patients

    return _samples(*phantom_patients(first_seed, count, shape))


@register("dataset", "ct-phantom")
class CTPhantom(_CTVolumes):
    """Procedural abdominal CT phantom (linksim.ct_phantom), one volume per patient, split by patient
    (train: seeds 0 … train_patients − 1; test: seeds from 1 000 000)."""

    dataset: Literal["ct-phantom"]
    train_patients: int = Field(default=24, ge=1, le=100_000)
    test_patients: int = Field(default=4, ge=1, le=100_000)

    def load(self, split, seed=0):
        first, count = (0, self.train_patients) if split == "train" else (1_000_000, self.test_patients)
        return _phantom_split(first, count, tuple(self.shape))


@register("dataset", "amos")
class AMOS(_CTVolumes):
    """AMOS-layout NIfTI (``path``/imagesTr + labelsTr for training, imagesVa + labelsVa for testing),
    resampled to ``shape`` (trilinear CT, nearest labels)."""

    dataset: Literal["amos"]
    path: str = Field(min_length=1, max_length=4096)

    @model_validator(mode="after")
    def _folders_exist(self):
        from linksim.medical_data import AMOS_SPLITS

        for folder in (d for pair in AMOS_SPLITS.values() for d in pair):
            if not os.path.isdir(os.path.join(self.path, folder)):
                raise ValueError(f"no folder {folder!r} in {self.path!r}; expected the AMOS layout (imagesTr, labelsTr, imagesVa, labelsVa)")
        return self

    def load(self, split, seed=0):
        import numpy as np

        from linksim.medical_data import amos_cases, load_nifti_volume, resize_volume

        cases = amos_cases(self.path, "train" if split == "train" else "validation")
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
    def _folder_exists(self):
        if not os.path.isdir(self.path):
            raise ValueError(f"no such folder {self.path!r}; expected one sub-folder of DICOM files per series")
        if not any(os.path.isdir(os.path.join(self.path, f)) for f in os.listdir(self.path)):
            raise ValueError(f"no series sub-folders in {self.path!r}; expected one sub-folder of DICOM files per series")
        return self

    def load(self, split, seed=0):
        import numpy as np

        from linksim.errors import InputError
        from linksim.medical_data import load_dicom_series, resize_volume

        if split != "test":
            raise InputError(f"{self.path}: a DICOM dataset has no labels and serves the test split only; train on ct-phantom or amos")
        folders = sorted(os.path.join(self.path, f) for f in os.listdir(self.path) if os.path.isdir(os.path.join(self.path, f)))
        ct = np.stack([resize_volume(load_dicom_series(f), self.shape) for f in folders])
        return _samples(ct, np.zeros(ct.shape, np.uint8))
