import numpy as np
import pytest
from sionna.phy.mapping import Mapper

from linksim.phy.constellations import MODULATIONS, axis_labels, make_constellation, modulation_info


@pytest.mark.parametrize("modulation", sorted(MODULATIONS))
@pytest.mark.parametrize("labelling", ["gray", "natural"])
def test_unit_average_energy_and_size(modulation, labelling):
    c = make_constellation(modulation, labelling=labelling, precision="double")
    points = c.points.numpy()
    assert len(points) == 2 ** MODULATIONS[modulation].num_bits_per_symbol
    assert np.mean(np.abs(points) ** 2) == pytest.approx(1.0, abs=1e-12)
    assert len(np.unique(np.round(points, 9))) == len(points)


@pytest.mark.parametrize("modulation", sorted(MODULATIONS))
def test_gray_neighbours_differ_in_one_bit(modulation):
    info = modulation_info(modulation)
    labels, _ = axis_labels(make_constellation(modulation), info.num_axes)
    for a, b in zip(labels, labels[1:]):
        assert bin(a ^ b).count("1") == 1


@pytest.mark.parametrize("modulation", ["pam4", "qam16", "qam64"])
def test_natural_labels_count_levels_upwards(modulation):
    info = modulation_info(modulation)
    labels, _ = axis_labels(make_constellation(modulation, labelling="natural"), info.num_axes)
    assert list(labels) == list(range(2**info.bits_per_axis))


def test_sionna_mapper_maps_bits_to_labelled_points():
    c = make_constellation("qam16")
    bits = np.array([[0, 0, 0, 0, 1, 1, 1, 1, 1, 0, 1, 1]], dtype=np.float32)
    symbols = Mapper(constellation=c)(bits).numpy()[0]
    np.testing.assert_allclose(symbols, c.points.numpy()[[0b0000, 0b1111, 0b1011]])


def test_unknown_names_are_rejected_with_the_valid_ones():
    with pytest.raises(ValueError, match="qam16"):
        make_constellation("qam32")
    with pytest.raises(ValueError, match="natural"):
        make_constellation("qam16", labelling="binary")


@pytest.mark.parametrize("modulation", ["bpsk", "pam4", "pam8", "qpsk", "qam16", "qam64", "qam256"])
@pytest.mark.parametrize("labelling", ["gray", "natural"])
def test_the_numpy_points_are_sionnas(modulation, labelling):
    from linksim.phy.constellations import constellation_points

    sionna_points = make_constellation(modulation, labelling=labelling, precision="double").points.numpy()
    np.testing.assert_allclose(constellation_points(modulation, labelling), sionna_points, atol=1e-12)
