"""The CT domain: a procedural abdominal CT phantom (:mod:`.ct_phantom`), NIfTI/DICOM loaders in the
AMOS layout (:mod:`.volume_files`), the CT datasets (:mod:`.datasets`), and Dice/IoU/HD95 per organ
(:mod:`.segmentation`, registered as the ``segmentation`` metric in :mod:`.metrics`).

Imports the engine and the catalogue; research systems on CT build on it. A new CT loader, dataset or
organ metric goes here. Importing this package registers its datasets and metrics.
"""
from linksim.domains.medical import datasets, metrics  # noqa: F401

VOCABULARY = ("ct", "hounsfield", "organ", "organs", "amos", "dicom", "nifti", "voxel", "voxels")
