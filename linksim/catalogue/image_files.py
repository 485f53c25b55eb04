"""File loaders of the registered image datasets (:mod:`linksim.catalogue.datasets`), local files only.

- ``bundled-photos``: the real photographs shipped inside the scikit-image and scikit-learn
  wheels, cut into non-overlapping square patches. The split is by photo: test patches come
  from photos that no training patch comes from (:data:`BUNDLED_TRAIN`, :data:`BUNDLED_TEST`).
- ``cifar10``: the official *binary* edition (``cifar-10-batches-bin``: ``data_batch_1.bin`` …
  ``data_batch_5.bin``, ``test_batch.bin``), parsed with NumPy. The Python edition is refused:
  unpickling a downloaded file can run code.
- ``image-folder``: .png/.jpg/.jpeg files (e.g. Kodak24, DIV2K), decoded with Pillow; random crops for
  training, non-overlapping tiles for testing.

Images are ``uint8`` arrays ``[N, H, W, 3]``; :func:`batches` turns a dataset's samples into a
``tf.data`` pipeline of ``float32`` (images in ``[0, 1]``) whose order is a pure function of the
seed and the epoch.
"""
import os
from dataclasses import dataclass

import numpy as np

from linksim.engine.errors import InputError

__all__ = ["BUNDLED_TRAIN", "BUNDLED_TEST", "ImageSet", "bundled_photos", "cifar10", "image_folder", "whole_images", "image_sizes", "cut_patches",
           "epoch_order", "batches"]

# name -> (package, loader); every file is inside the installed wheels.
_PHOTOS = {
    "astronaut": ("skimage", "astronaut"),
    "coffee": ("skimage", "coffee"),
    "rocket": ("skimage", "rocket"),
    "motorcycle": ("skimage", "motorcycle_left.png"),
    "hubble_deep_field": ("skimage", "hubble_deep_field"),
    "immunohistochemistry": ("skimage", "immunohistochemistry"),
    "retina": ("skimage", "retina"),
    "china": ("sklearn", "china.jpg"),
    "chelsea": ("skimage", "chelsea"),
    "flower": ("sklearn", "flower.jpg"),
}
BUNDLED_TRAIN = ("astronaut", "coffee", "rocket", "motorcycle", "hubble_deep_field", "immunohistochemistry", "retina", "china")
BUNDLED_TEST = ("chelsea", "flower")
CIFAR10_RECORD = 1 + 32 * 32 * 3
CIFAR10_FILES = {"train": [f"data_batch_{i}.bin" for i in range(1, 6)], "test": ["test_batch.bin"]}
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg")


@dataclass
class ImageSet:
    """Images of one split.

    Attributes
    ----------
    images : [N, H, W, 3] uint8
    source : [N] int
        Index into ``sources`` of the photo or file each image was cut from.
    sources : tuple[str]
        Photo names or file paths.
    labels : [N] int or None
        Class labels where the dataset has them (CIFAR-10).
    """

    images: np.ndarray
    source: np.ndarray
    sources: tuple
    labels: np.ndarray | None = None

    def __len__(self):
        return len(self.images)


def load_photo(name: str) -> np.ndarray:
    """One bundled photograph as ``[H, W, 3] uint8``."""
    package, item = _PHOTOS[name]
    if package == "sklearn":
        from sklearn.datasets import load_sample_image

        return np.asarray(load_sample_image(item), dtype=np.uint8)
    import skimage.data

    if item.endswith(".png"):
        from skimage.io import imread

        return np.asarray(imread(os.path.join(skimage.data.data_dir, item))[..., :3], dtype=np.uint8)
    return np.asarray(getattr(skimage.data, item)(), dtype=np.uint8)


def cut_patches(image: np.ndarray, size: int) -> np.ndarray:
    """Non-overlapping ``size × size`` patches, row by row: ``[rows·cols, size, size, C]``.

    The right and bottom margins that do not fill a whole patch are dropped.
    """
    rows, cols = image.shape[0] // size, image.shape[1] // size
    cropped = image[: rows * size, : cols * size]
    patches = cropped.reshape(rows, size, cols, size, -1).transpose(0, 2, 1, 3, 4)  # [rows, cols, s, s, C]
    return patches.reshape(rows * cols, size, size, -1)


def _patch_set(photos, loader, size) -> ImageSet:
    images, source = [], []
    for i, photo in enumerate(photos):
        patches = cut_patches(loader(photo), size)
        images.append(patches)
        source.append(np.full(len(patches), i))
    if not images or sum(len(p) for p in images) == 0:
        raise InputError(f"patch_size {size} is larger than every image of the split")
    return ImageSet(np.concatenate(images), np.concatenate(source), tuple(photos))


def bundled_photos(split: str, patch_size: int = 32) -> ImageSet:
    """Patches of the bundled photographs; ``split`` is ``train`` or ``test`` (split by photo)."""
    photos = {"train": BUNDLED_TRAIN, "test": BUNDLED_TEST}[split]
    return _patch_set(photos, load_photo, patch_size)


def cifar10(path: str, split: str) -> ImageSet:
    """CIFAR-10 from its official binary files: 50 000 train or 10 000 test images with labels."""
    directory = os.path.join(path, "cifar-10-batches-bin") if os.path.isdir(os.path.join(path, "cifar-10-batches-bin")) else path
    python_edition = [p for p in (os.path.join(path, "cifar-10-batches-py"), os.path.join(directory, "data_batch_1")) if os.path.exists(p)]
    files = [os.path.join(directory, f) for f in CIFAR10_FILES[split]]
    missing = [f for f in files if not os.path.isfile(f)]
    if missing:
        if python_edition:
            raise InputError(f"{path}: this is the Python (pickle) edition of CIFAR-10, which linksim does not load because "
                             "unpickling a downloaded file can run code; use the binary edition (cifar-10-binary.tar.gz, "
                             "directory cifar-10-batches-bin)")
        raise InputError(f"{path}: no CIFAR-10 binary files; expected {', '.join(CIFAR10_FILES[split])} "
                         "(the binary edition, directory cifar-10-batches-bin)")
    records = []
    for f in files:
        raw = np.fromfile(f, dtype=np.uint8)
        if raw.size == 0 or raw.size % CIFAR10_RECORD:
            raise InputError(f"{f}: {raw.size} bytes is not a whole number of {CIFAR10_RECORD}-byte CIFAR-10 records")
        records.append(raw.reshape(-1, CIFAR10_RECORD))
    records = np.concatenate(records)
    images = records[:, 1:].reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1)  # planes R, G, B → [N, 32, 32, 3]
    labels = records[:, 0].astype(np.int64)
    if labels.max() > 9:
        raise InputError(f"{directory}: label {labels.max()} out of 0..9; not CIFAR-10 binary files")
    return ImageSet(np.ascontiguousarray(images), np.arange(len(images)), tuple(files), labels)


MAX_IMAGE_PIXELS = 2**26  # 67 M pixels (8192 × 8192): bigger images are refused before they are decoded


def _image_files(path):
    if not os.path.isdir(path):
        raise InputError(f"{path}: no such image folder (expected a directory of .png/.jpg files)")
    files = sorted(os.path.join(path, f) for f in os.listdir(path) if f.lower().endswith(IMAGE_SUFFIXES))
    if not files:
        raise InputError(f"{path}: no .png/.jpg/.jpeg files in this folder")
    odd = [f for f in files if not os.path.isfile(f)]
    if odd:  # a FIFO or device named like an image would block or never end
        raise InputError(f"{odd[0]}: not a regular file; an image folder holds image files only")
    return files


def _with_image(file, read):
    """``read(im)`` of the Pillow image opened from ``file``; an ``InputError`` where it cannot be decoded."""
    import warnings

    from PIL import Image, UnidentifiedImageError

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(file) as im:
                if im.width * im.height > MAX_IMAGE_PIXELS:
                    raise Image.DecompressionBombError(file)
                return read(im)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise InputError(f"{file}: more than {MAX_IMAGE_PIXELS} pixels; refused before decoding") from None
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError) as exc:
        raise InputError(f"{file}: cannot decode as an image ({exc})") from None


def _read_image(file) -> np.ndarray:
    return _with_image(file, lambda im: np.asarray(im.convert("RGB"), dtype=np.uint8))


def _read_turned(file, turn_portrait: bool) -> np.ndarray:
    """The image of ``file``, turned a quarter counter-clockwise where ``turn_portrait`` and it is taller than wide."""
    image = _read_image(file)
    return np.ascontiguousarray(np.rot90(image)) if turn_portrait and image.shape[0] > image.shape[1] else image


def image_folder(path: str, patch_size: int, turn_portrait: bool = False) -> ImageSet:
    """Non-overlapping ``patch_size`` tiles of every image in a folder (test split), image by image,
    each row by row; ``turn_portrait``: images taller than wide turned a quarter counter-clockwise first."""
    return _patch_set(_image_files(path), lambda file: _read_turned(file, turn_portrait), patch_size)


def whole_images(path: str, turn_portrait: bool = False) -> ImageSet:
    """Every image of a folder, whole (test split with ``whole_test_images``), ``turn_portrait`` as for
    :func:`image_folder`; ``InputError`` where they differ in size."""
    files = _image_files(path)
    images = [_read_turned(f, turn_portrait) for f in files]
    odd = next((f for f, im in zip(files, images) if im.shape != images[0].shape), None)
    if odd is not None:
        raise InputError(f"{odd}: {'×'.join(map(str, images[files.index(odd)].shape[:2]))} (height×width), but {files[0]} is "
                         f"{'×'.join(map(str, images[0].shape[:2]))}: whole_test_images needs test images of one size")
    return ImageSet(np.stack(images), np.arange(len(files)), tuple(files))


def image_sizes(path: str) -> dict:
    """``{file: (height, width)}`` of the images in a folder, from their headers (nothing decoded)."""
    return {file: _with_image(file, lambda im: im.size[::-1]) for file in _image_files(path)}


def random_crops(path: str, patch_size: int, count: int, seed: int) -> ImageSet:
    """``count`` random ``patch_size`` crops from the images of a folder (training split)."""
    files = _image_files(path)
    rng = np.random.default_rng(seed)
    images = [_read_image(f) for f in files]
    usable = [i for i, im in enumerate(images) if im.shape[0] >= patch_size and im.shape[1] >= patch_size]
    if not usable:
        raise InputError(f"{path}: every image is smaller than patch_size {patch_size}")
    which = rng.choice(usable, size=count)
    crops = np.empty((count, patch_size, patch_size, 3), np.uint8)
    for n, i in enumerate(which):
        top = rng.integers(0, images[i].shape[0] - patch_size + 1)
        left = rng.integers(0, images[i].shape[1] - patch_size + 1)
        crops[n] = images[i][top : top + patch_size, left : left + patch_size]
    return ImageSet(crops, which, tuple(files))


def epoch_order(num_images: int, seed: int, epoch: int, shuffle: bool = True) -> np.ndarray:
    """The order of one epoch: a permutation that depends on ``(seed, epoch)`` only."""
    if not shuffle:
        return np.arange(num_images)
    return np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(epoch,))).permutation(num_images)


def batches(images: np.ndarray, batch_size: int, *, seed: int = 0, epoch: int = 0, shuffle: bool = True,
            drop_remainder: bool = False, prefetch: int = 2, stored_max: float = 255.0):
    """One epoch as a ``tf.data.Dataset`` of ``[batch, *sample_shape] float32``: the stored samples
    divided by ``stored_max`` (images: ``uint8 / 255`` in ``[0, 1]``)."""
    import tensorflow as tf

    order = epoch_order(len(images), seed, epoch, shuffle)
    dataset = tf.data.Dataset.from_tensor_slices(images[order]).batch(batch_size, drop_remainder=drop_remainder)
    dataset = dataset.map(lambda x: tf.cast(x, tf.float32) / stored_max, num_parallel_calls=tf.data.AUTOTUNE)
    return dataset.prefetch(prefetch) if prefetch else dataset
