"""The procedural abdominal CT phantom: seeded, every AMOS organ present, plausible intensities, patients differ."""
import numpy as np
import pytest

from linksim.domains.medical.ct_phantom import AMOS_LABELS, HU_RANGE, phantom_patients, phantom_volume, hu_to_unit

SHAPE = (32, 64, 64)


@pytest.fixture(scope="module")
def patients():
    return phantom_patients(100, 3, SHAPE)


def test_a_seed_gives_the_same_patient_and_another_seed_another(patients):
    ct, labels = phantom_volume(100, SHAPE)
    np.testing.assert_array_equal(ct, patients[0][0])
    np.testing.assert_array_equal(labels, patients[1][0])
    assert not np.array_equal(patients[1][0], patients[1][1])
    liver_volumes = [int(np.sum(v == 6)) for v in patients[1]]
    assert len(set(liver_volumes)) == 3


def test_every_patient_has_all_fifteen_amos_organs_and_nothing_else(patients):
    for labels in patients[1]:
        assert labels.dtype == np.uint8 and labels.shape == SHAPE
        assert set(np.unique(labels)) == {0, *AMOS_LABELS}


def test_organ_intensities_are_those_of_contrast_enhanced_abdominal_ct(patients):
    ct, labels = patients[0][0], patients[1][0]
    mean = {name: float(ct[labels == label].mean()) for label, name in AMOS_LABELS.items()}
    assert 70 < mean["liver"] < 140 and 80 < mean["spleen"] < 160 and 120 < mean["aorta"] < 220
    assert mean["right kidney"] > mean["liver"] and mean["aorta"] > mean["liver"]
    assert -20 < mean["bladder"] < 40 and -20 < mean["gallbladder"] < 40
    assert ct.min() < -900 and ct.max() > 400  # air around the body, cortical bone in the spine
    body = ct > -500
    assert np.mean(ct[body & (labels == 0)] < 0) > 0.3  # fat is a large part of the unlabelled body


def test_the_hu_window_maps_linearly_onto_the_unit_interval():
    ct = np.array([-1000.0, -400.0, 0.0, 200.0, 400.0, 1500.0])
    np.testing.assert_allclose(hu_to_unit(ct), [0.0, 0.0, 0.5, 0.75, 1.0, 1.0])
    assert HU_RANGE == (-400.0, 400.0)
