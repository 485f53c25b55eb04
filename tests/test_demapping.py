import numpy as np
import pytest
import tensorflow as tf
from sionna.phy.mapping import Demapper, SymbolDemapper

from linksim.phy.constellations import MODULATIONS, axis_labels, make_constellation, modulation_info
from linksim.phy.demapping import AxisDemapper, SlicerDemapper

ALL = [(m, lab) for m in sorted(MODULATIONS) for lab in ("gray", "natural")]


def _received(n, seed):
    rng = np.random.default_rng(seed)
    y = rng.normal(scale=1.1, size=(2, n)).astype(np.float32)
    return tf.complex(y[0], y[1])


@pytest.mark.parametrize("modulation,labelling", ALL)
def test_slicer_equals_sionna_maxlog_hard_decisions_bit_for_bit(modulation, labelling):
    y = _received(100_000, seed=len(modulation))
    slicer = SlicerDemapper(constellation=make_constellation(modulation, labelling=labelling))
    sionna_hard = Demapper("maxlog", constellation=make_constellation(modulation, labelling=labelling, precision="double"),
                           hard_out=True, precision="double")
    ours = slicer(y).numpy()
    reference = sionna_hard(tf.cast(y, tf.complex128), tf.constant(0.1, tf.float64)).numpy()
    assert ours.shape == reference.shape
    assert np.array_equal(ours, reference.astype(np.float32))


@pytest.mark.parametrize("modulation", ["qpsk", "qam16", "qam64", "pam4"])
def test_slicer_ties_decide_zero_like_sionna(modulation):
    """On a decision boundary the LLR is 0 and Sionna decides 0; so does the slicer."""
    c = make_constellation(modulation, precision="double")
    points = c.points.numpy()
    ties = np.concatenate([points.real * 0 + 1j * points.imag, points.real + 0j, [0j]])[None]  # on the I=0 / Q=0 axes
    slicer = SlicerDemapper(constellation=make_constellation(modulation))
    sionna_hard = Demapper("maxlog", constellation=c, hard_out=True, precision="double")
    reference = sionna_hard(tf.constant(ties, tf.complex128), tf.constant(0.1, tf.float64)).numpy()
    assert np.array_equal(slicer(tf.constant(ties, tf.complex64)).numpy(), reference.astype(np.float32))


def test_single_precision_sionna_differs_only_next_to_boundaries():
    """In float32 Sionna's distance arithmetic rounds near a boundary; nowhere else may they differ."""
    modulation = "qam256"
    y = _received(200_000, seed=3)
    c = make_constellation(modulation)
    ours = SlicerDemapper(constellation=c)(y).numpy().reshape(-1, 8)
    sionna = Demapper("maxlog", constellation=c, hard_out=True)(y, 0.1).numpy().reshape(-1, 8)
    differing = np.flatnonzero(np.any(ours != sionna, axis=1))
    assert len(differing) <= 10
    _, spacing = axis_labels(c, 2)
    boundaries = (2 * np.arange(15) - 14) * spacing
    for i in differing:
        yi = y.numpy()[i]
        distance = min(np.min(np.abs(yi.real - boundaries)), np.min(np.abs(yi.imag - boundaries)))
        assert distance < 1e-6


@pytest.mark.parametrize("modulation", ["qam16", "qam64", "pam8"])
def test_slicer_indices_equal_sionna_hard_symbol_decisions(modulation):
    y = _received(50_000, seed=11)
    c = make_constellation(modulation, precision="double")
    ours = SlicerDemapper(constellation=make_constellation(modulation), output="indices")(y).numpy()
    reference = SymbolDemapper(constellation=c, hard_out=True, precision="double")(tf.cast(y, tf.complex128), tf.constant(0.1, tf.float64)).numpy()
    assert np.array_equal(ours, reference)


def test_slicer_rejects_non_square_constellations():
    from sionna.phy.mapping import Constellation

    points = np.exp(2j * np.pi * np.arange(8) / 8)  # 8-PSK
    with pytest.raises(ValueError):
        SlicerDemapper(constellation=Constellation("custom", 3, points=points))
    assert modulation_info("qam16").bits_per_axis == 2


@pytest.mark.parametrize("modulation,labelling", ALL)
@pytest.mark.parametrize("method", ["app", "maxlog"])
def test_axis_demapper_equals_sionnas_soft_llrs(modulation, labelling, method):
    """Per-axis LLRs equal Sionna's M-point LLRs (double precision: to 1e-9 of the LLR's size), at
    low and high SNR and with a per-symbol noise variance."""
    y = tf.cast(_received(20_000, seed=7), tf.complex128)
    constellation = make_constellation(modulation, labelling=labelling, precision="double")
    ours = AxisDemapper(method, constellation=constellation, precision="double")
    reference = Demapper(method, constellation=constellation, precision="double")
    per_symbol = tf.constant(np.random.default_rng(1).uniform(0.01, 3.0, y.shape[0]), tf.float64)
    for no in (tf.constant(0.01, tf.float64), tf.constant(2.0, tf.float64), per_symbol):
        a, b = ours(y, no).numpy(), reference(y, no).numpy()
        assert a.shape == b.shape
        np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-9)


def test_axis_demapper_refuses_constellations_that_do_not_separate():
    from sionna.phy.mapping import Constellation

    points = np.exp(2j * np.pi * np.arange(8) / 8)  # 8-PSK
    with pytest.raises(ValueError):
        AxisDemapper("app", constellation=Constellation("custom", 3, points=points))
