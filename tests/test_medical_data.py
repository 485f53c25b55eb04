"""CT loaders on files the tests write: AMOS-layout NIfTI and a DICOM series; bad files are one-line errors."""
import os

import numpy as np
import pytest

from linksim.engine.errors import InputError
from linksim.domains.medical.volume_files import amos_cases, load_dicom_series, load_nifti_volume, resize_volume

X, Y, Z = 6, 5, 4  # file axes of the written volumes


def ras_volume():
    """A (x, y, z) array with a marker at the patient's left-most, anterior-most, top voxel."""
    data = np.zeros((X, Y, Z), np.int16)
    data[0, Y - 1, Z - 1] = 300  # x = 0 is the patient's left in RAS+ (x grows to the right)
    data[X - 1, 0, 0] = -200     # the right-most, posterior-most, bottom voxel
    return data


def write_nifti(path, data, affine):
    import nibabel

    nibabel.save(nibabel.Nifti1Image(data, affine), path)


@pytest.mark.parametrize("flip", [False, True])
def test_nifti_volumes_come_out_superior_first_anterior_first_patient_right_first(tmp_path, flip):
    data, affine = ras_volume(), np.eye(4)
    if flip:  # the same anatomy stored in LPS order: x and y reversed, the affine says so
        data, affine = data[::-1, ::-1, :].copy(), np.diag([-1.0, -1.0, 1.0, 1.0])
    write_nifti(str(tmp_path / "ct.nii.gz"), data, affine)
    volume = load_nifti_volume(str(tmp_path / "ct.nii.gz"))
    assert volume.shape == (Z, Y, X) and volume.dtype == np.float32
    assert volume[0, 0, X - 1] == 300  # top slice, front row, last column = patient's left
    assert volume[Z - 1, Y - 1, 0] == -200


def test_an_amos_folder_pairs_images_and_labels_and_says_what_is_missing(tmp_path):
    for folder in ("imagesTr", "labelsTr"):
        os.makedirs(tmp_path / folder)
    for case in ("amos_0002", "amos_0001"):
        write_nifti(str(tmp_path / "imagesTr" / f"{case}.nii.gz"), ras_volume(), np.eye(4))
        write_nifti(str(tmp_path / "labelsTr" / f"{case}.nii.gz"), (ras_volume() > 0).astype(np.uint8) * 6, np.eye(4))
    cases = amos_cases(str(tmp_path))
    assert [os.path.basename(i) for i, _ in cases] == ["amos_0001.nii.gz", "amos_0002.nii.gz"]
    labels = load_nifti_volume(cases[0][1], labels=True)
    assert labels.dtype == np.uint8 and labels[0, 0, X - 1] == 6 and labels.sum() == 6
    os.remove(tmp_path / "labelsTr" / "amos_0002.nii.gz")
    with pytest.raises(InputError, match=r"labelsTr/amos_0002.nii.gz: no label map for image amos_0002.nii.gz"):
        amos_cases(str(tmp_path))
    with pytest.raises(InputError, match=r"imagesVa: no such folder; expected the AMOS layout"):
        amos_cases(str(tmp_path), "validation")
    (tmp_path / "broken.nii.gz").write_bytes(b"not a nifti file")
    with pytest.raises(InputError, match=r"broken.nii.gz: not a readable NIfTI file") as error:
        load_nifti_volume(str(tmp_path / "broken.nii.gz"))
    assert "\n" not in str(error.value)


def write_dicom_series(folder, hu, intercept=-1024.0):
    """Axial slices [D, H, W] (D superior first) as CT DICOM files, written in scrambled order."""
    from pydicom.dataset import Dataset, FileMetaDataset
    from pydicom.uid import CTImageStorage, ExplicitVRLittleEndian, generate_uid

    os.makedirs(folder)
    for index in (2, 0, 3, 1)[: len(hu)]:
        meta = FileMetaDataset()
        meta.MediaStorageSOPClassUID, meta.MediaStorageSOPInstanceUID = CTImageStorage, generate_uid()
        meta.TransferSyntaxUID = ExplicitVRLittleEndian
        ds = Dataset()
        ds.file_meta = meta
        ds.SOPClassUID, ds.SOPInstanceUID, ds.Modality = CTImageStorage, meta.MediaStorageSOPInstanceUID, "CT"
        ds.Rows, ds.Columns = hu.shape[1:]
        ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, "MONOCHROME2"
        ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 16, 15, 0
        ds.RescaleSlope, ds.RescaleIntercept = 1, intercept
        ds.ImageOrientationPatient = [1, 0, 0, 0, 1, 0]
        ds.ImagePositionPatient = [0.0, 0.0, 100.0 - 2.5 * index]  # LPS: larger z is superior
        ds.PixelData = (hu[index] - intercept).astype(np.uint16).tobytes()
        ds.save_as(os.path.join(folder, f"slice{index * 7 % 5}.dcm"), enforce_file_format=True)


def test_a_dicom_series_is_stacked_by_position_in_hounsfield_units(tmp_path):
    rng = np.random.default_rng(0)
    hu = rng.integers(-1000, 1000, (4, 8, 10)).astype(np.float32)
    write_dicom_series(str(tmp_path / "series"), hu)
    np.testing.assert_array_equal(load_dicom_series(str(tmp_path / "series")), hu)
    (tmp_path / "series" / "junk.dcm").write_bytes(b"junk")
    with pytest.raises(InputError, match=r"junk.dcm: not a readable CT slice"):
        load_dicom_series(str(tmp_path / "series"))
    with pytest.raises(InputError, match=r"nowhere: no such DICOM folder"):
        load_dicom_series(str(tmp_path / "nowhere"))


def test_resizing_keeps_labels_integer_and_ct_smooth():
    labels = np.zeros((4, 8, 8), np.uint8)
    labels[:, 2:6, 2:6] = 7
    small = resize_volume(labels, (2, 4, 4), labels=True)
    assert small.shape == (2, 4, 4) and set(np.unique(small)) == {0, 7}
    ct = np.linspace(-400, 400, 4 * 8 * 8, dtype=np.float32).reshape(4, 8, 8)
    assert resize_volume(ct, (2, 4, 4)).shape == (2, 4, 4)


def test_amos_reads_ct_cases_unless_mri_is_asked_for(tmp_path):
    """AMOS22 numbers its CT cases below 500 and its MRI cases from 500."""
    for folder in ("imagesTr", "labelsTr"):
        os.makedirs(tmp_path / folder)
    for case in ("amos_0005", "amos_0499", "amos_0500", "amos_0541"):
        for folder in ("imagesTr", "labelsTr"):
            write_nifti(str(tmp_path / folder / f"{case}.nii.gz"), ras_volume(), np.eye(4))

    def names(modality):
        return [os.path.basename(image)[:9] for image, _ in amos_cases(str(tmp_path), modality=modality)]

    assert names("ct") == ["amos_0005", "amos_0499"]
    assert names("mri") == ["amos_0500", "amos_0541"]
    assert names("all") == ["amos_0005", "amos_0499", "amos_0500", "amos_0541"]
    assert [os.path.basename(i) for i, _ in amos_cases(str(tmp_path))] == ["amos_0005.nii.gz", "amos_0499.nii.gz"]  # CT by default
    for folder in ("imagesTr", "labelsTr"):
        write_nifti(str(tmp_path / folder / "patient7.nii.gz"), ras_volume(), np.eye(4))
    with pytest.raises(InputError, match=r"patient7.nii.gz: cannot tell CT from MRI by the name .*'modality: all'"):
        amos_cases(str(tmp_path))
    assert len(amos_cases(str(tmp_path), modality="all")) == 5
