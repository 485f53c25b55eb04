"""DiSC-Med's resampling and conditioning: compression ratio, exact interpolation of linear fields, FiLM identity at init."""
import numpy as np
import pytest
import tensorflow as tf

from models.disc_med.film import FiLM, ChannelEmbedding
from models.disc_med.resampling import strided_compress, trilinear_restore

SHAPE = (8, 16, 16)


def test_strided_compression_keeps_one_sample_in_thirty_two():
    volumes = tf.random.uniform((2, *SHAPE, 3), seed=1)
    compressed = strided_compress(volumes)
    assert compressed.shape == (2, 4, 4, 4, 3)
    assert np.prod(volumes.shape) / np.prod(compressed.shape) == 32  # (D/2)·(H/4)·(W/4)
    np.testing.assert_array_equal(compressed[:, 1, 2, 3], volumes[:, 2, 8, 12])


def test_trilinear_restoration_is_exact_on_linear_fields_and_keeps_the_kept_samples():
    d, h, w = np.meshgrid(*(np.arange(n, dtype=np.float32) for n in SHAPE), indexing="ij")
    field = (0.7 * d - 0.25 * h + 0.125 * w + 3.0)[None]  # [1, D, H, W]
    restored = trilinear_restore(strided_compress(field), SHAPE).numpy()
    np.testing.assert_allclose(restored, field, atol=1e-5)
    noise = tf.random.uniform((1, *SHAPE), seed=2)
    kept = trilinear_restore(strided_compress(noise), SHAPE)
    np.testing.assert_allclose(strided_compress(kept), strided_compress(noise), atol=1e-6)


def test_film_is_the_identity_at_initialisation_and_conditions_after_a_step():
    features = tf.random.normal((4, 8, 8, 6), seed=3)
    embed, film = ChannelEmbedding(16), FiLM()
    snr = tf.constant([-5.0, 0.0, 5.0, 10.0])
    np.testing.assert_array_equal(film(features, embed(snr)), features)
    optimizer = tf.keras.optimizers.SGD(0.1)
    with tf.GradientTape() as tape:
        loss = tf.reduce_mean(tf.square(film(features, embed(snr)) - 2.0 * features))
    variables = film.trainable_variables + embed.trainable_variables
    optimizer.apply_gradients(zip(tape.gradient(loss, variables), variables))
    out = film(features, embed(snr)).numpy()
    assert not np.allclose(out, features.numpy())
    assert not np.allclose(out[0] / features.numpy()[0], out[3] / features.numpy()[3])  # depends on the SNR
