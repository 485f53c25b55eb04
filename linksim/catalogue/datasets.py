"""Catalogue of datasets: what ``images`` sources send and what training reads.

A dataset declares its sample shape and value range: :meth:`DatasetParams.load` gives the
samples of a split as stored (``[N, *sample_shape]``, e.g. ``uint8``), and a sample divided by
``stored_max`` lies in ``value_range``. The image datasets here give ``(H, W, 3)`` samples; other
domains register datasets of other shapes (:mod:`linksim.domains`). Validation checks cheaply that
the files are where they must be (nothing is decoded, nothing is ever downloaded); the loaders live
in :mod:`linksim.catalogue.image_files`. Paths are relative to the working directory.
"""
import os
from abc import abstractmethod
from typing import Annotated, ClassVar, Literal

from pydantic import Field, ValidationInfo, model_validator

from linksim.engine.errors import InputError
from linksim.engine.registry import Params, register

__all__ = ["DatasetParams", "BundledPhotos", "CIFAR10", "ImageFolder", "DEFAULT_DATASET", "Side", "checks_data_files"]

DEFAULT_DATASET = "bundled-photos"
Side = Annotated[int, Field(ge=2, le=4096)]


def checks_data_files(info: ValidationInfo) -> bool:
    """Whether a dataset's validators look at its files: not while a scenario is read without its
    data (``load_scenario(..., data_files=False)``, e.g. for a training plan on another machine)."""
    return (info.context or {}).get("data_files", True)


class DatasetParams(Params):
    """Common fields: the training order and the input pipeline's prefetch depth."""

    shuffle: bool = True  # training order, a pure function of (seed, stage, epoch)
    prefetch: int = Field(default=2, ge=0, le=64)

    value_range: ClassVar[tuple[float, float]] = (0.0, 1.0)
    stored_max: ClassVar[float] = 255.0

    @property
    @abstractmethod
    def sample_shape(self) -> tuple[int, ...]:
        """Shape of one training sample, e.g. ``(H, W, 3)`` (of the test samples too, unless
        :meth:`split_shape` says otherwise)."""

    def split_shape(self, split: str) -> tuple[int, ...]:
        """Shape of one sample of ``split`` (``train`` or ``test``): ``sample_shape`` unless the
        dataset tests on other shapes than it trains on (``image-folder`` with ``whole_test_images``)."""
        return self.sample_shape

    @abstractmethod
    def load(self, split: str, seed: int = 0):
        """The samples of ``split`` (``train`` or ``test``), ``[N, *split_shape(split)]`` as stored."""

    def train_size(self, seed: int = 0) -> int:
        """Number of training samples (one epoch). Loads the split unless the dataset knows it without its files."""
        return len(self.load("train", seed))

    def tile_grid(self) -> tuple[int, int]:
        """``(rows, cols)`` of tiles that every test image is cut into exactly, for metrics that score
        whole images (``tiles``); ``ValueError`` where the test samples are not such tiles."""
        raise ValueError(f"the {self.dataset} dataset's test samples are not tiles of whole images; whole-image "
                         "metrics ('tiles') need the image-folder dataset")


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
        from linksim.catalogue.image_files import bundled_photos

        return bundled_photos(split, self.patch_size).images


@register("dataset", "cifar10")
class CIFAR10(_Images):
    """CIFAR-10, official binary edition (``path``: the folder holding cifar-10-batches-bin)."""

    dataset: Literal["cifar10"]
    path: str = Field(min_length=1, max_length=4096)

    @model_validator(mode="after")
    def _files_exist(self, info: ValidationInfo):
        if self.patch_size != 32:
            raise ValueError("CIFAR-10 images are 32×32: 'patch_size' must be 32")
        if not checks_data_files(info):
            return self
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
        from linksim.catalogue.image_files import cifar10

        return cifar10(self.path, split).images

    def train_size(self, seed=0):
        return 50_000


@register("dataset", "image-folder")
class ImageFolder(_Images):
    """.png/.jpg/.jpeg files: tiles of ``path`` for testing, ``train_crops`` random crops of ``train_path``
    (default ``path``) for training.

    ``turn_portrait: true`` turns test images taller than wide a quarter turn (counter-clockwise)
    before tiling, so that a set like Kodak24 (768×512 and 512×768) tiles into one grid and can be
    scored as whole images (metrics with ``tiles``); PSNR and SSIM of an image pair do not change
    when both are turned.

    ``whole_test_images: true`` tests on the whole images instead of their tiles: the link codes
    each image at once, as papers that train on crops and test on Kodak do. Every test image must
    then have one size (after ``turn_portrait``), and every learned stage must be fully
    convolutional (its weights do not depend on the image size), since it trains on
    ``patch_size`` crops and is tested with the same weights on whole images."""

    dataset: Literal["image-folder"]
    path: str = Field(min_length=1, max_length=4096)
    train_path: str | None = Field(default=None, min_length=1, max_length=4096)
    train_crops: int = Field(default=10_000, ge=1, le=10**7)
    turn_portrait: bool = False
    whole_test_images: bool = False
    added_later: ClassVar[dict] = {"turn_portrait": False, "whole_test_images": False}
    evaluation_only: ClassVar[tuple[str, ...]] = ("whole_test_images",)  # training stays on crops

    @model_validator(mode="after")
    def _files_exist(self, info: ValidationInfo):
        from linksim.catalogue.image_files import IMAGE_SUFFIXES

        if not checks_data_files(info):
            return self
        for key, folder in (("path", self.path), ("train_path", self.train_path)):
            if folder is None:
                continue
            if not os.path.isdir(folder):
                raise ValueError(f"no such folder {folder!r} ({key}); expected a folder of .png/.jpg images")
            if not any(f.lower().endswith(IMAGE_SUFFIXES) for f in os.listdir(folder)):
                raise ValueError(f"no .png/.jpg/.jpeg files in {folder!r} ({key})")
        return self

    @model_validator(mode="after")
    def _whole_test_images_share_a_size(self, info: ValidationInfo):
        if self.whole_test_images and checks_data_files(info):
            try:
                self.split_shape("test")
            except InputError as exc:
                raise ValueError(str(exc)) from None
        return self

    def load(self, split, seed=0):
        from linksim.catalogue.image_files import image_folder, random_crops, whole_images

        if split == "test":
            if self.whole_test_images:
                return whole_images(self.path, self.turn_portrait).images
            return image_folder(self.path, self.patch_size, self.turn_portrait).images
        return random_crops(self.train_path or self.path, self.patch_size, self.train_crops, seed).images

    def train_size(self, seed=0):
        return self.train_crops

    def split_shape(self, split):
        if split != "test" or not self.whole_test_images:
            return self.sample_shape
        sizes = {}
        for file, size in self._test_image_sizes().items():
            sizes.setdefault(size, []).append(file)
        if len(sizes) > 1:
            found = "; ".join(f"{h}×{w}: {len(files)} file(s), e.g. {files[0]}" for (h, w), files in sorted(sizes.items()))
            hint = "" if self.turn_portrait else " (set turn_portrait: true if they differ only in orientation)"
            raise ValueError(f"whole_test_images: the test images of {self.path!r} differ in size (height×width: {found}){hint}; "
                             "a batch of whole images needs one size")
        return (*next(iter(sizes)), 3)

    def _test_image_sizes(self) -> dict:
        """``{file: (height, width)}`` of the test images, portrait ones turned where ``turn_portrait``."""
        from linksim.catalogue.image_files import image_sizes

        return {file: (w, h) if self.turn_portrait and h > w else (h, w) for file, (h, w) in image_sizes(self.path).items()}

    def tile_grid(self):
        if self.whole_test_images:
            raise ValueError("whole_test_images: the test samples are whole images already; remove 'tiles' from the metrics")
        size = self.patch_size
        grids = {}
        for file, (height, width) in self._test_image_sizes().items():
            if height % size or width % size:
                raise ValueError(f"{file} is {height}×{width} (height×width), not a whole number of {size}×{size} tiles: "
                                 "whole-image metrics ('tiles') need images that the tiles cover exactly")
            grids.setdefault((height // size, width // size), []).append(file)
        if len(grids) > 1:
            found = "; ".join(f"{r}×{c} tiles: {len(files)} file(s), e.g. {files[0]}" for (r, c), files in sorted(grids.items()))
            hint = "" if self.turn_portrait else " (set turn_portrait: true if they differ only in orientation)"
            raise ValueError(f"the test images of {self.path!r} do not share one tile grid ({found}){hint}")
        return next(iter(grids))
