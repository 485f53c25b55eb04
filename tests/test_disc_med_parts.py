"""DiSC-Med's resampling and conditioning: compression ratio, exact interpolation of linear fields, FiLM identity at init."""
import numpy as np
import pytest
import tensorflow as tf

from linksim.models.disc_med.film import FiLM, ChannelEmbedding
from linksim.models.disc_med.resampling import strided_compress, trilinear_restore

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


def test_the_ddpm_schedule_is_ho_et_al_and_ddim_with_an_exact_oracle_returns_x0():
    from linksim.models.disc_med.ddpm import DDPMSchedule, ddim_sample, q_sample

    schedule = DDPMSchedule()
    assert schedule.alpha_bar[-1] == pytest.approx(4.04e-5, rel=0.01)  # linear 1e-4 … 0.02 over 1000 steps
    x0 = tf.random.uniform((3, 8, 8, 1), seed=4)
    eps = tf.random.normal(x0.shape, seed=5)
    x_t = q_sample(schedule, x0, tf.fill([3], 999), eps)

    def oracle(x, t, condition):  # the exact ε of x given the clean x0
        alpha_bar = tf.reshape(tf.gather(schedule.alpha_bar_tf, t), [-1, 1, 1, 1])
        return (x - tf.sqrt(alpha_bar) * condition) / tf.sqrt(1.0 - alpha_bar)

    for steps in (1, 10, 50):
        np.testing.assert_allclose(ddim_sample(oracle, schedule, x_t, x0, steps), x0, atol=2e-3)


def test_the_ancestral_ddpm_chain_with_an_exact_oracle_ends_at_x0_and_its_noise_follows_the_seed():
    from linksim.models.disc_med.ddpm import DDPMSchedule, ddpm_sample

    schedule = DDPMSchedule(num_steps=50, beta_start=1e-3, beta_end=0.2)
    x0 = tf.random.uniform((2, 4, 4, 1), seed=6)
    start = tf.random.normal(x0.shape, seed=7)

    def oracle(x, t, condition):  # for a point mass at x0 the exact ε, and the last step's mean is x0 (eq. 5 at t = 1)
        alpha_bar = tf.reshape(tf.gather(schedule.alpha_bar_tf, t), [-1, 1, 1, 1])
        return (x - tf.sqrt(alpha_bar) * condition) / tf.sqrt(1.0 - alpha_bar)

    np.testing.assert_allclose(ddpm_sample(oracle, schedule, start, x0, tf.constant([1, 2])), x0, atol=1e-4)

    def blind(x, t, condition):  # ε = 0: the chain is x scaled plus the injected noise
        return tf.zeros_like(x)

    first, again, other = (ddpm_sample(blind, schedule, start, None, tf.constant(s)).numpy() for s in ([1, 2], [1, 2], [3, 4]))
    np.testing.assert_array_equal(first, again)
    assert not np.allclose(first, other)


@pytest.mark.parametrize("prediction", ["epsilon", "v"])
def test_one_ddpm_training_step_lowers_the_loss(prediction):
    from linksim.models.disc_med.ddpm import DDPMSchedule, prediction_loss

    schedule = DDPMSchedule(100)
    network = tf.keras.Sequential([tf.keras.layers.Conv2D(16, 3, padding="same", activation="relu"),
                                   tf.keras.layers.Conv2D(1, 3, padding="same")])

    def net_fn(x, t, condition):
        level = tf.broadcast_to(tf.reshape(tf.cast(t, tf.float32) / 100.0, [-1, 1, 1, 1]), tf.shape(x))
        return network(tf.concat([x, condition, level], axis=-1))

    x0 = tf.random.uniform((8, 16, 16, 1), seed=6)
    condition = tf.cast(x0 > 0.5, tf.float32)
    t = tf.random.uniform([8], 0, 100, tf.int32, seed=7)
    eps = tf.random.normal(x0.shape, seed=8)
    before = float(prediction_loss(net_fn, schedule, x0, condition, t, eps, prediction))
    optimizer = tf.keras.optimizers.Adam(1e-3)
    with tf.GradientTape() as tape:
        loss = prediction_loss(net_fn, schedule, x0, condition, t, eps, prediction)
    optimizer.apply_gradients(zip(tape.gradient(loss, network.trainable_variables), network.trainable_variables))
    assert float(prediction_loss(net_fn, schedule, x0, condition, t, eps, prediction)) < before


def test_v_reads_back_as_the_exact_eps_and_weighs_the_chain_start_where_eps_does_not():
    from linksim.models.disc_med.ddpm import DDPMSchedule, eps_from_prediction, prediction_loss, q_sample

    schedule = DDPMSchedule()
    x0 = tf.random.uniform((4, 8, 8, 1), minval=-1.0, maxval=1.0, seed=3)
    eps = tf.random.normal(x0.shape, seed=4)
    t = tf.constant([0, 300, 700, 999])
    x_t = q_sample(schedule, x0, t, eps)
    alpha_bar = tf.reshape(tf.gather(schedule.alpha_bar_tf, t), [-1, 1, 1, 1])
    v = tf.sqrt(alpha_bar) * eps - tf.sqrt(1.0 - alpha_bar) * x0
    np.testing.assert_allclose(eps_from_prediction(schedule, x_t, t, v, "v"), eps, atol=1e-5)
    assert float(prediction_loss(lambda x, t, c: v, schedule, x0, None, t, eps, "v")) < 1e-10

    # A network right about everything but x_0, off by δ = 0.5 at the chain's start (t = 999):
    # the ε loss sees δ² times the SNR ᾱ/(1 − ᾱ) ≈ 4e-5 of it, the v loss δ² (1 + SNR).
    last = tf.fill([4], 999)
    x_last = q_sample(schedule, x0, last, eps)
    a = float(schedule.alpha_bar[999])
    wrong_x0 = x0 + 0.5
    wrong_eps = (x_last - np.sqrt(a) * wrong_x0) / np.sqrt(1 - a)
    wrong_v = np.sqrt(a) * wrong_eps - np.sqrt(1 - a) * wrong_x0
    eps_weight = float(prediction_loss(lambda x, t, c: wrong_eps, schedule, x0, None, last, eps)) / 0.25
    v_weight = float(prediction_loss(lambda x, t, c: wrong_v, schedule, x0, None, last, eps, "v")) / 0.25
    np.testing.assert_allclose([eps_weight, v_weight], [a / (1 - a), 1 / (1 - a)], rtol=1e-3)


def test_a_v_prediction_ddpm_draws_back_the_slices_it_was_fitted_to():
    """Overfit the reconstruction layer to two 16×16 slices (a dark background and a bright disc or
    square, the condition their masks) and sample them back from the condition with clipped DDIM."""
    from linksim.models.disc_med.reconstruction import DDPMReconstructor

    rows, cols = np.mgrid[:16, :16]
    disc = (rows - 8) ** 2 + (cols - 8) ** 2 < 25
    square = (abs(rows - 7) < 4) & (abs(cols - 9) < 5)
    masks = np.stack([disc, square]).astype(np.float32)                    # [2, 16, 16]
    ct = (0.1 + 0.7 * masks)[:, None, :, :, None]                          # [2, 1, 16, 16, 1] volumes of one slice
    condition = np.stack([1 - masks, masks], -1)[:, None].astype(np.float32)  # [2, 1, 16, 16, 2]
    tf.keras.utils.set_random_seed(1)
    layer = DDPMReconstructor(num_classes=1, filters=8, levels=2, sampling_steps=20, prediction="v")
    optimizer = tf.keras.optimizers.Adam(tf.keras.optimizers.schedules.CosineDecay(5e-3, 300))

    @tf.function(jit_compile=True)
    def step(seed):
        with tf.GradientTape() as tape:
            loss = layer.loss(ct, condition, seed)
        optimizer.apply_gradients(zip(tape.gradient(loss, layer.trainable_variables), layer.trainable_variables))

    layer(condition, tf.constant([0, 0]))
    for i in range(300):
        step(tf.constant([0, i]))
    drawn = layer(condition, tf.constant([5, 5])).numpy()
    assert abs(drawn.mean() - ct.mean()) < 0.05
    assert 10 * np.log10(1 / np.mean((drawn - ct) ** 2)) > 18.0


def test_the_conditional_unet_ignores_its_condition_at_init_and_learns_to_use_it():
    from linksim.models.disc_med.film import TimestepEmbedding
    from linksim.models.disc_med.unet import ConditionalUNet

    unet, embed = ConditionalUNet(filters=8, out_channels=1), ChannelEmbedding(16)
    slices = tf.random.uniform((4, 16, 16, 3), seed=9)  # target slice and its two neighbours
    low, high = embed(tf.fill([4], -5.0)), embed(tf.fill([4], 15.0))
    out = unet(slices, low)
    assert out.shape == (4, 16, 16, 1)
    np.testing.assert_allclose(out, unet(slices, high), atol=1e-6)  # FiLM starts as the identity
    target = slices[..., 1:2] * tf.reshape(tf.constant([0.5, 0.5, 2.0, 2.0]), [4, 1, 1, 1])
    snr = tf.constant([-5.0, -5.0, 15.0, 15.0])
    optimizer = tf.keras.optimizers.Adam(1e-2)
    variables = None
    for _ in range(3):
        with tf.GradientTape() as tape:
            loss = tf.reduce_mean(tf.square(unet(slices, embed(snr)) - target))
        variables = variables or unet.trainable_variables + embed.trainable_variables
        optimizer.apply_gradients(zip(tape.gradient(loss, variables), variables))
    assert not np.allclose(unet(slices, low), unet(slices, high), atol=1e-4)
    assert TimestepEmbedding(10)(tf.constant([0, 999])).shape == (2, 10)


def test_edges_of_a_label_map_trace_its_organ_boundaries():
    from scipy import ndimage

    from linksim.models.disc_med.semantics import edge_volume

    labels = np.zeros((3, 32, 32), np.uint8)
    labels[1, 8:24, 10:22] = 6
    edges = edge_volume(labels)
    assert edges.dtype == np.uint8 and not edges[0].any() and not edges[2].any()  # empty slices have no edge
    mask = labels[1] > 0
    boundary = mask & ~ndimage.binary_erosion(mask) | ndimage.binary_dilation(mask) & ~mask
    near = ndimage.binary_dilation(boundary)
    assert edges[1].sum() > 40 and np.all(near[edges[1] > 0])  # every edge pixel lies on the square's border


def test_clipped_ddim_keeps_every_prediction_in_the_data_range_and_leaves_an_exact_oracle_alone():
    from linksim.models.disc_med.ddpm import DDPMSchedule, ddim_sample, q_sample

    schedule = DDPMSchedule()
    x0 = tf.random.uniform((2, 8, 8, 1), minval=-1.0, maxval=1.0, seed=8)
    x_t = q_sample(schedule, x0, tf.fill([2], 999), tf.random.normal(x0.shape, seed=9))

    def oracle(x, t, condition):
        alpha_bar = tf.reshape(tf.gather(schedule.alpha_bar_tf, t), [-1, 1, 1, 1])
        return (x - tf.sqrt(alpha_bar) * condition) / tf.sqrt(1.0 - alpha_bar)

    np.testing.assert_allclose(ddim_sample(oracle, schedule, x_t, x0, 10, clip=(-1.0, 1.0)), x0, atol=2e-3)
    wild = ddim_sample(lambda x, t, c: tf.ones_like(x) * 3.0, schedule, x_t, None, 10, clip=(-1.0, 1.0)).numpy()
    assert wild.min() >= -1.0 and wild.max() <= 1.0
    assert np.abs(ddim_sample(lambda x, t, c: tf.ones_like(x) * 3.0, schedule, x_t, None, 10).numpy()).max() > 1.0


def test_coarse_masks_add_the_body_outline_and_bone_to_the_organ_edges():
    from linksim.domains.medical.ct_phantom import hu_to_unit, phantom_volume
    from linksim.models.disc_med.semantics import coarse_masks, edge_volume

    hu, labels = phantom_volume(3, (4, 48, 48))
    ct = hu_to_unit(hu)
    regions = coarse_masks(labels, ct)
    np.testing.assert_array_equal(regions[labels > 0], labels[labels > 0])  # organs keep their labels
    assert set(np.unique(regions[labels == 0])) == {0, 16, 17}  # air, body tissue, bone
    np.testing.assert_array_equal(regions[(labels == 0) & (hu < -400)], 0)
    assert np.all(regions[(labels == 0) & (hu > 320)] == 17)
    organ_edges, all_edges = edge_volume(labels), edge_volume(regions)
    assert all_edges.sum() > organ_edges.sum()
    row = all_edges[2, 24]  # the middle row of a slice crosses the body outline on both sides
    body = np.flatnonzero(ct[2, 24] > 0.05)
    assert row[max(body[0] - 1, 0): body[0] + 2].any() and row[body[-1] - 1: body[-1] + 2].any()


def test_attention_at_the_lowest_resolutions_sits_where_asked_and_saves_with_the_weights(tmp_path):
    """attention_levels = 2 of 3: the bottleneck and the level above it end in self-attention (of their
    widths), the top level does not; the configuration and the weights round-trip."""
    from linksim.models.disc_med.unet import ConditionalUNet

    unet = ConditionalUNet(4, 1, 3, attention_levels=2)
    x, embedding = tf.random.uniform([1, 32, 32, 2], seed=1), tf.zeros([1, 3])
    unet(x, embedding)
    assert sorted(unet.down_attention) == sorted(unet.up_attention) == ["level1"] and unet.middle_attention is not None
    assert unet.down_attention["level1"].q.filters == 8 and unet.middle_attention.q.filters == 16
    assert ConditionalUNet.from_config(unet.get_config()).attention_levels == 2
    assert not ConditionalUNet(4, 1, 3).down_attention and ConditionalUNet(4, 1, 3).middle_attention is None
    with pytest.raises(ValueError, match="attention_levels must be in 0 … levels = 3"):
        ConditionalUNet(4, 1, 3, attention_levels=4)
    from linksim.run.training import learned_parts_model  # how checkpoints save learned layers

    other = ConditionalUNet(4, 1, 3, attention_levels=2)
    other(x, embedding)
    path = str(tmp_path / "unet.weights.h5")
    learned_parts_model({"reconstruction": unet}).save_weights(path)
    learned_parts_model({"reconstruction": other}).load_weights(path)
    np.testing.assert_allclose(other(x, embedding).numpy(), unet(x, embedding).numpy(), rtol=1e-5, atol=1e-6)
