"""Keras layers of models/: shapes, value ranges, config round trips, parameter checks."""
import keras
import numpy as np
import pytest
import tensorflow as tf

from models.conv import ConvDecoder, ConvEncoder


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
