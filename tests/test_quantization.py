import numpy as np
import pytest
import tensorflow as tf

from linksim.phy.quantization import (BitsToInteger, IntegerToBits, SoftQuantizationNoise, UniformQuantizer,
                              pad_to_multiple, straight_through_round)


@pytest.mark.parametrize("num_bits", [1, 2, 4, 8, 12])
@pytest.mark.parametrize("code", ["natural", "gray"])
def test_ad_da_round_trip_of_every_integer(num_bits, code):
    x = tf.constant(np.arange(2**num_bits).reshape(1, -1), tf.int32)
    bits = IntegerToBits(num_bits=num_bits, code=code)(x)
    assert bits.shape == (1, 2**num_bits * num_bits)
    assert set(np.unique(bits.numpy())) <= {0.0, 1.0}
    assert np.array_equal(BitsToInteger(num_bits=num_bits, code=code)(bits).numpy(), x.numpy())


def test_ad_is_msb_first_and_gray_neighbours_differ_in_one_bit():
    bits = IntegerToBits(num_bits=4)(tf.constant([[6]])).numpy()
    assert list(bits[0]) == [0, 1, 1, 0]
    gray = IntegerToBits(num_bits=4, code="gray")(tf.constant([np.arange(16)])).numpy().reshape(16, 4)
    assert list(gray[2]) == [0, 0, 1, 1]  # gray(2) = 3
    assert all(np.sum(gray[i] != gray[i + 1]) == 1 for i in range(15))


@pytest.mark.parametrize("num_bits", [2, 4, 8])
def test_quantizer_error_within_half_a_step_and_clipping(num_bits):
    q = UniformQuantizer(num_bits=num_bits, minval=-1.5, maxval=2.5, output="value")
    x = np.random.default_rng(0).uniform(-1.5, 2.5, 100_000).astype(np.float32)
    err = np.abs(q(x).numpy() - x)
    assert err.max() <= q.step / 2 + 1e-6
    assert err.max() > 0.45 * q.step  # the bound is tight
    idx = UniformQuantizer(num_bits=num_bits, minval=-1.5, maxval=2.5)(tf.constant([-10.0, -1.5, 2.5, 10.0])).numpy()
    assert list(idx) == [0, 0, 2**num_bits - 1, 2**num_bits - 1]
    np.testing.assert_allclose(q.dequantize(idx).numpy(), [-1.5, -1.5, 2.5, 2.5], atol=1e-6)


def test_quantizer_rejects_bad_parameters():
    with pytest.raises(ValueError, match="num_bits"):
        UniformQuantizer(num_bits=0)
    with pytest.raises(ValueError, match="maxval"):
        UniformQuantizer(num_bits=4, minval=1.0, maxval=1.0)


def test_straight_through_round_has_identity_gradient():
    x = tf.Variable([0.2, 1.7, -2.4])
    with tf.GradientTape() as tape:
        y = tf.reduce_sum(3.0 * straight_through_round(x))
    np.testing.assert_array_equal(straight_through_round(x).numpy(), [0.0, 2.0, -2.0])
    np.testing.assert_array_equal(tape.gradient(y, x).numpy(), [3.0, 3.0, 3.0])


def test_soft_quantization_noise_statistics():
    x = tf.zeros([400_000])
    seed = tf.constant([1, 2])
    u = SoftQuantizationNoise(kind="uniform", step=0.5)(x, training=True, seed=seed).numpy()
    assert np.abs(u).max() <= 0.25
    assert np.var(u) == pytest.approx(0.5**2 / 12, rel=0.01)
    g = SoftQuantizationNoise(kind="gaussian", alpha=0.5)(x, training=True, seed=seed).numpy()
    assert np.std(g) == pytest.approx(0.5, rel=0.01)
    evaluated = SoftQuantizationNoise(kind="gaussian")(tf.constant([0.4, 0.6, 2.5]), training=False).numpy()
    np.testing.assert_array_equal(evaluated, [0.0, 1.0, 2.0])  # rounds half to even, like tf.round


def test_pad_to_multiple():
    x = tf.ones([2, 10])
    padded, num_pad = pad_to_multiple(x, 4)
    assert padded.shape == (2, 12) and num_pad == 2
    assert np.all(padded.numpy()[:, 10:] == 0)
    same, none = pad_to_multiple(tf.ones([3, 8]), 4)
    assert same.shape == (3, 8) and none == 0
