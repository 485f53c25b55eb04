"""Keras layers of models/: shapes, value ranges, config round trips, parameter checks."""
import keras
import numpy as np
import pytest
import tensorflow as tf

from linksim.models.conv import ConvDecoder, ConvEncoder


def test_conv_codec_shapes_ranges_and_config_round_trip():
    encoder, decoder = ConvEncoder(latent_channels=3, filters=8), ConvDecoder(image_size=16, latent_channels=3, filters=8)
    images = tf.random.uniform([2, 16, 16, 3], seed=1)
    latent = encoder(images)
    out = decoder(latent)
    assert latent.shape == (2, 4 * 4 * 3) and out.shape == (2, 16, 16, 3)
    assert float(tf.reduce_min(latent)) >= 0 and float(tf.reduce_max(latent)) <= 1
    for layer in (encoder, decoder):
        clone = type(layer).from_config(layer.get_config())
        assert clone.get_config() == layer.get_config()
        restored = keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(layer), safe_mode=True)
        assert type(restored) is type(layer)
    twin = ConvEncoder.from_config(encoder.get_config())
    twin(images)
    twin.set_weights(encoder.get_weights())
    np.testing.assert_array_equal(twin(images).numpy(), latent.numpy())


@pytest.mark.parametrize("make", [
    lambda: ConvEncoder(latent_channels=0),
    lambda: ConvEncoder(filters=2.5),
    lambda: ConvDecoder(image_size=30),
])
def test_bad_hyper_parameters_are_rejected(make):
    with pytest.raises(ValueError):
        make()


@pytest.mark.parametrize("modulation", ["bpsk", "pam4", "qpsk", "qam16", "qam64"])
def test_gumbel_qam_gives_valid_points_and_straight_through_gradients(modulation):
    from linksim.models.jcm import GumbelQAM
    from linksim.phy.constellations import make_constellation

    layer = GumbelQAM(modulation, temperature=0.7)
    points = make_constellation(modulation).points.numpy()
    logits = tf.Variable(tf.random.normal([8, 32, layer.num_axes, layer.num_levels], seed=3))
    with tf.GradientTape() as tape:
        symbols = layer(logits, training=True, seed=tf.constant([1, 2]))
        loss = tf.reduce_sum(tf.abs(symbols - (0.3 + 0.1j)) ** 2)
    grad = tape.gradient(loss, logits).numpy()
    distance = np.min(np.abs(symbols.numpy()[..., None] - points), axis=-1)
    assert np.max(distance) < 1e-6  # every training output is a constellation point
    assert np.count_nonzero(grad) > 0.9 * grad.size  # the relaxed softmax carries the gradient
    evaluated = layer(logits, training=False).numpy()
    assert np.max(np.min(np.abs(evaluated[..., None] - points), axis=-1)) < 1e-6
    assert np.array_equal(evaluated, layer(logits).numpy())  # argmax: deterministic
    # the Gray labels of the chosen levels, interleaved I/Q as in Sionna, index the same points
    labels = layer.labels(logits).numpy().reshape(-1, layer.num_axes)
    m = layer.num_levels.bit_length() - 1
    axis_bits = [[[(label >> (m - 1 - k)) & 1 for k in range(m)] for label in labels[:, a]] for a in range(layer.num_axes)]
    sionna_index = [int("".join(str(b) for group in zip(*per_axis) for b in group), 2) for per_axis in zip(*axis_bits)]
    np.testing.assert_allclose(points[sionna_index], evaluated.reshape(-1), atol=1e-6)
    assert type(layer).from_config(layer.get_config()).get_config() == layer.get_config()
