"""JCM codec and SCDM denoiser: layers, score matching, training schedules, a tiny end-to-end run."""
import copy

import keras
import numpy as np
import pytest
import tensorflow as tf

from tests.conftest import trained_runner
from linksim.engine.errors import InputError
from linksim.run.montecarlo import ChunkRunner
from linksim.output.results import Results
from linksim.scenario import build_curve, parse_scenario
from linksim.run.checkpoints import checkpoint_path, config_hash
from linksim.run.training import CurveWeights, Trainer
from linksim.models.diffusion import VESchedule, pc_sample
from linksim.models.jcm import SmallJCMDecoder, SmallJCMEncoder
from linksim.phy.snr import normalize_power
from linksim.models.scdm import SCDMDenoiser, ScoreUNet
from linksim.phy.constellations import make_constellation


def _round_trip(layer):
    clone = type(layer).from_config(layer.get_config())
    assert clone.get_config() == layer.get_config()
    restored = keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(layer), safe_mode=True)
    assert type(restored) is type(layer) and restored.get_config() == layer.get_config()
    return clone


def test_jcm_codec_shapes_power_points_and_config_round_trip():
    encoder, decoder = SmallJCMEncoder(image_size=16, num_symbols=32, modulation="qam16", filters=8), SmallJCMDecoder(image_size=16, num_symbols=32, filters=8)
    images = tf.random.uniform([3, 16, 16, 3], seed=1)
    symbols = encoder(images)
    points = make_constellation("qam16").points.numpy()
    assert symbols.shape == (3, 32) and symbols.dtype == tf.complex64
    np.testing.assert_allclose(np.mean(np.abs(symbols.numpy()) ** 2, axis=1), 1.0, rtol=1e-5)  # unit power per image
    # before normalisation every symbol is a 16-QAM point: ratios of symbols of a row are ratios of points
    allowed = np.abs(points[:, None] / points[None, :]).ravel()
    for row in symbols.numpy():
        ratios = np.abs(row[:, None] / row[None, :]).ravel()
        assert np.all(np.min(np.abs(ratios[:, None] - allowed[None, :]), axis=1) < 1e-4)
    out = decoder(symbols)
    assert out.shape == (3, 16, 16, 3) and float(tf.reduce_min(out)) >= 0 and float(tf.reduce_max(out)) <= 1
    for layer in (encoder, decoder):
        clone = _round_trip(layer)
        clone(images if layer is encoder else symbols)
        clone.set_weights(layer.get_weights())
        np.testing.assert_array_equal(clone(images if layer is encoder else symbols).numpy(), (symbols if layer is encoder else out).numpy())


def test_uniform_symbols_are_power_normalised_constellation_points_with_uniform_frequencies():
    encoder = SmallJCMEncoder(image_size=16, num_symbols=64, modulation="qam64", filters=4)
    z = encoder.uniform_symbols(2000, tf.constant([3, 4])).numpy()
    np.testing.assert_allclose(np.mean(np.abs(z) ** 2, axis=1), 1.0, rtol=1e-5)
    points = make_constellation("qam64").points.numpy()
    index = tf.random.stateless_uniform([2000, 64], tf.constant([3, 4]), 0, 64, tf.int32).numpy()
    counts = np.bincount(index.ravel(), minlength=64)
    expected = index.size / 64
    assert np.sum((counts - expected) ** 2 / expected) < 120  # χ² with 63 dof: p ≈ 1e-5
    np.testing.assert_allclose(normalize_power(tf.gather(points, index)).numpy(), z, rtol=1e-6)


@pytest.mark.parametrize("make", [
    lambda: SmallJCMEncoder(image_size=16, num_symbols=30),
    lambda: SmallJCMEncoder(modulation="qam32"),
    lambda: SmallJCMDecoder(image_size=18),
    lambda: ScoreUNet(channels=(8, 8)),
    lambda: ScoreUNet(embedding=7),
    lambda: SCDMDenoiser(sigma_min=1.0, sigma_max=0.5),
    lambda: SCDMDenoiser(r=0.0),
])
def test_bad_hyper_parameters_are_rejected(make):
    with pytest.raises(ValueError):
        make()


def test_score_network_shapes_and_config_round_trip():
    net = ScoreUNet(channels=(8, 8, 16), heads=2, embedding=8)
    z = tf.complex(tf.random.normal([4, 64], seed=1), tf.random.normal([4, 64], seed=2))
    for sigma in (tf.constant(0.5), tf.constant([0.1, 1.0, 2.0, 5.0])):
        score = net(z, sigma)
        assert score.shape == (4, 64) and score.dtype == tf.complex64
    clone = _round_trip(net)
    clone(z, tf.constant(1.0))
    clone.set_weights(net.get_weights())
    np.testing.assert_array_equal(clone(z, tf.constant(0.3)).numpy(), net(z, tf.constant(0.3)).numpy())
    denoiser = SCDMDenoiser(channels=(8, 8, 8), heads=2, embedding=8, num_levels=16)
    denoiser(z, tf.constant(0.1))
    _round_trip(denoiser)


@pytest.mark.parametrize("no", [1e-5, 0.003, 0.1, 1.0, 63.1, 1e3])
def test_start_level_in_the_graph_equals_the_schedule(no):
    denoiser = SCDMDenoiser(channels=(4, 4, 4), embedding=4)
    assert int(denoiser.start_level(tf.constant(no))) == int(VESchedule().level_for_noise(np.sqrt(no)))


def test_sampler_with_a_tensor_start_level_equals_the_integer_one_and_costs_levels():
    schedule = VESchedule(num_levels=32)
    calls = []

    def score(z, sigma):
        calls.append(1)
        return -z / tf.cast(1.0 + tf.square(sigma), tf.complex64)  # exact score of CN(0, 1) data

    z = tf.complex(tf.random.normal([5, 16], seed=4), tf.random.normal([5, 16], seed=5))
    a = pc_sample(score, z, schedule, 12, seed=(1, 2)).numpy()
    b = tf.function(lambda z, level: pc_sample(score, z, schedule, level, seed=(1, 2)))(z, tf.constant(12)).numpy()
    np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    calls.clear()
    pc_sample(score, z, schedule, 7, num_corrector=2)
    assert len(calls) == 7 * 3  # one predictor and two corrector evaluations per level


def test_a_score_matching_step_lowers_the_dsm_loss_on_structured_symbols():
    keras.utils.set_random_seed(0)
    denoiser = SCDMDenoiser(channels=(8, 8, 8), heads=2, embedding=8, num_levels=16)
    # non-uniform, structured symbols: every row is one of two fixed sequences of QPSK points
    rng = np.random.default_rng(0)
    patterns = normalize_power(tf.constant(rng.choice([1 + 1j, -1 - 1j, 1 - 1j], size=(2, 32)), tf.complex64))
    clean = tf.gather(patterns, rng.integers(0, 2, 64))
    denoiser(clean, tf.constant(0.1))
    optimizer = keras.optimizers.Adam(3e-3)
    optimizer.build(denoiser.trainable_variables)  # its variables exist before the step is traced: one trace
    seeds = [tf.constant([7, i]) for i in range(40)]

    loss_at = tf.function(lambda seed: denoiser.dsm_loss(clean, seed))

    def mean_loss():
        return float(np.mean([loss_at(s) for s in seeds[:8]]))

    @tf.function
    def step(seed):
        with tf.GradientTape() as tape:
            loss = denoiser.dsm_loss(clean, seed)
        optimizer.apply_gradients(zip(tape.gradient(loss, denoiser.trainable_variables), denoiser.trainable_variables))

    before = mean_loss()
    for s in seeds:
        step(s)
    after = mean_loss()
    assert 0.9 < before < 1.1  # zero-initialised output: the loss starts at E|ε|² = 1
    assert after < 0.8 * before


# ---------------------------------------------------------------------------------- engine
def tiny_scdm(**overrides):
    codec_stage = {"name": "codec", "train": ["symbols", "reconstruction"], "steps": 4, "batch_size": 8, "learning_rate": 3e-3,
                   "snr": {"low": 10.0, "high": 10.0}}
    jcm = [{"type": "jcm_small_encoder", "modulation": "qam16", "num_symbols": 16, "filters": 4}, {"type": "awgn"},
           {"type": "jcm_small_decoder", "num_symbols": 16, "filters": 4}]
    scdm = jcm[:2] + [{"type": "scdm_denoiser", "channels": [4, 4, 4], "heads": 1, "embedding": 4, "num_levels": 8}] + jcm[2:]
    metrics = [{"type": "psnr"}, {"type": "mse", "sent": "symbols", "received": "received", "name": "latent_mse"}]
    scenario = {
        "name": "tiny_scdm", "seed": 5, "data": {"patch_size": 16},
        "snr": {"convention": "esno", "values": [0.0, 10.0]},
        "montecarlo": {"batch_size": 8, "max_samples": 8, "target_errors": None, "execution": "graph"},
        "curves": [
            {"name": "jcm", "source": {"type": "images"}, "stages": jcm, "metrics": metrics, "training": {"stages": [codec_stage]}},
            {"name": "scdm", "source": {"type": "images"}, "stages": scdm,
             "metrics": [metrics[0], {**metrics[1], "received": "denoised"}],
             "training": {"init_from": "jcm", "stages": [{"name": "dsm", "train": ["denoised"], "loss": "dsm", "steps": 3,
                                                          "batch_size": 8}]}},
            {"name": "per-snr", "source": {"type": "images"}, "stages": jcm, "metrics": metrics,
             "training": {"per_point": True, "stages": [{k: v for k, v in codec_stage.items() if k != "snr"}]}},
        ],
    }
    scenario.update(overrides)
    return scenario


def _weights(block):
    return [w.copy() for w in block.get_weights()]


def test_dsm_training_updates_only_the_denoiser_and_init_from_copies_the_codec(tmp_path, eager):
    scenario = parse_scenario(tiny_scdm())
    runner = trained_runner(scenario, str(tmp_path), [0])
    jcm = runner.curve(0).link
    scdm_link, _ = build_curve(scenario, scenario.curves[1])
    trainer = Trainer(scenario, 1, scdm_link, root=str(tmp_path), progress=None)
    trainer.run(max_epochs=0)  # builds, initialises from 'jcm', trains nothing
    for tap in ("symbols", "reconstruction"):
        for a, b in zip(_weights(jcm.stages[[s.tap for s in jcm.stages].index(tap)].block),
                        _weights(scdm_link.stages[[s.tap for s in scdm_link.stages].index(tap)].block)):
            np.testing.assert_array_equal(a, b)
    before = {s.tap: _weights(s.block) for s in scdm_link.stages if s.learned}
    trainer.run()
    after = {s.tap: _weights(s.block) for s in scdm_link.stages if s.learned}
    for tap in ("symbols", "reconstruction"):
        assert all(np.array_equal(a, b) for a, b in zip(before[tap], after[tap])), tap
    assert any(not np.array_equal(a, b) for a, b in zip(before["denoised"], after["denoised"]))
    # the denoiser's checkpoint hash covers the codec it starts from
    changed = tiny_scdm()
    changed["curves"][0]["training"]["stages"][0]["steps"] = 5
    assert config_hash(parse_scenario(changed), parse_scenario(changed).curves[1]) != config_hash(scenario, scenario.curves[1])


def test_decoder_fine_tuning_through_the_sampler_updates_only_the_decoder(tmp_path, eager):
    spec = tiny_scdm()
    spec["curves"].append({"name": "joint", "source": {"type": "images"}, "stages": spec["curves"][1]["stages"],
                           "metrics": spec["curves"][1]["metrics"],
                           "training": {"init_from": "scdm", "stages": [{"name": "decoder", "train": ["reconstruction"], "steps": 2,
                                                                         "batch_size": 8, "snr": {"low": -5.0, "high": 5.0}}]}})
    scenario = parse_scenario(spec)
    runner = trained_runner(scenario, str(tmp_path), [0, 1])
    runner.curve(0)
    runner.curve(1)
    link, _ = build_curve(scenario, scenario.curves[3])
    trainer = Trainer(scenario, 3, link, root=str(tmp_path), progress=None)
    trainer.run(max_epochs=0)
    before = {s.tap: _weights(s.block) for s in link.stages if s.learned}
    losses = trainer.run()["losses"]
    after = {s.tap: _weights(s.block) for s in link.stages if s.learned}
    assert np.isfinite(losses[-1][3])
    for tap in ("symbols", "denoised"):
        assert all(np.array_equal(a, b) for a, b in zip(before[tap], after[tap])), tap
    assert any(not np.array_equal(a, b) for a, b in zip(before["reconstruction"], after["reconstruction"]))


def test_per_point_training_gives_each_snr_its_own_codec_and_the_sweep_uses_it(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    from linksim.cli import main

    spec = tiny_scdm()
    spec["curves"] = [spec["curves"][2]]
    path = tmp_path / "s.yaml"
    import yaml

    path.write_text(yaml.safe_dump(spec))
    assert main(["run", str(path), "--out", "r.h5", "--quiet"]) == 0
    scenario = parse_scenario(spec)
    folders = [checkpoint_path(scenario, scenario.curves[0], "checkpoints", p) for p in (0.0, 10.0)]
    runner = ChunkRunner(scenario, CurveWeights(scenario, "checkpoints"))
    weights = []
    for p, snr in enumerate((0.0, 10.0)):
        link = runner.link_at(0, snr)
        weights.append(_weights(link.stages[0].block))
        stats, _ = runner.run(0, p, 0, snr)  # the sweep's chunk 0 at this point, with this point's codec
        stored = Results.load("r.h5").curves[0].points[p].stats["psnr"]["sum"]
        assert stats["psnr"]["sum"] == pytest.approx(stored, rel=1e-6)
    assert all(f.endswith(s) for f, s in zip(folders, ("snr+0dB", "snr+10dB")))
    assert any(not np.array_equal(a, b) for a, b in zip(*weights))  # two different codecs


@pytest.mark.parametrize("mutate, message", [
    (lambda s: s["curves"][1]["training"]["stages"][0].update(loss="mse", snr={"low": 0.0, "high": 1.0}), "use 'loss: dsm'"),
    (lambda s: s["curves"][0]["training"]["stages"][0].update(loss="dsm"), "exactly one score model"),
    (lambda s: s["curves"][1]["training"]["stages"][0].update(loss={"type": "mse", "symbols": "uniform"}), r"stages\[0\]\.loss\.symbols: unknown key"),
    (lambda s: s["curves"][1]["training"]["stages"][0].update(channel="surrogate"), "'loss: dsm' runs no bridge; remove 'channel'"),
    (lambda s: s["curves"][1]["training"]["stages"][0].update(cache_head=2), "'cache_head' needs an objective that runs the link forward"),
    (lambda s: s["curves"][1]["training"].update(init_from="per-snr"), "'init_from' must name an earlier curve"),
    (lambda s: s["curves"][1]["training"].update(init_from="nope"), "'init_from' must name an earlier curve"),
    (lambda s: s["curves"][2]["training"]["stages"][0].update(snr={"low": 1.0, "high": 1.0}), "remove 'snr'"),
    (lambda s: s["curves"][0]["training"]["stages"][0].pop("snr"), "missing required key 'snr'"),
    (lambda s: s.update(figures={"comparison": {"curves": ["jcm", "ghost"], "snr": [0.0]}}), "'ghost' is not a curve"),
    (lambda s: s.update(figures={"comparison": {"curves": ["per-snr"], "snr": [3.0]}}), "per_point curves have weights only"),
])
def test_bad_training_schedules_are_refused_with_the_key(mutate, message):
    spec = copy.deepcopy(tiny_scdm())
    mutate(spec)
    with pytest.raises(InputError, match=message):
        parse_scenario(spec)


@pytest.mark.parametrize("modulation, values", [("bpsk", [-1.0, 1.0]), ("pam4", None)])
def test_jcm_encoder_with_real_constellations_sends_real_points(modulation, values):
    encoder = SmallJCMEncoder(image_size=16, num_symbols=32, modulation=modulation, filters=4)
    z = encoder(tf.random.uniform([4, 16, 16, 3], seed=5)).numpy()
    assert np.all(z.imag == 0)
    np.testing.assert_allclose(np.mean(np.abs(z) ** 2, axis=1), 1.0, rtol=1e-5)
    if values is not None:
        np.testing.assert_allclose(np.unique(np.round(z.real, 5)), values)  # BPSK: unit power is ±1 whatever the choice
    assert SmallJCMDecoder(image_size=16, num_symbols=32, filters=4)(z).shape == (4, 16, 16, 3)


# ---------------------------------------------------------------------------------- baselines of the denoiser
def test_the_histogram_posterior_mean_equals_a_brute_force_sum_over_the_constellation():
    from linksim.models.scdm import HistogramPosteriorMean

    rng = np.random.default_rng(8)
    points = make_constellation("qam16").points.numpy()
    for per_position in (False, True):
        layer = HistogramPosteriorMean("qam16", num_symbols=6, per_position=per_position)
        layer.build((None, 6))
        layer.reset()
        sent = points[rng.choice(16, size=(50, 6), p=np.r_[np.full(4, 0.16), np.full(12, 0.36 / 12)])]
        layer.accumulate(tf.constant(sent * 1.01, tf.complex64))  # off the grid: binned to the nearest point
        counts = np.array([[np.sum(sent[:, j] == c) for c in points] for j in range(6)], np.float64)
        counts = counts if per_position else counts.sum(0, keepdims=True)
        np.testing.assert_array_equal(layer.counts.numpy(), counts)
        no = 0.3
        received = (sent[:4] + np.sqrt(no / 2) * (rng.normal(size=(4, 6)) + 1j * rng.normal(size=(4, 6)))).astype(np.complex64)
        expected = np.zeros(received.shape, complex)
        for b in range(4):
            for j in range(6):
                prior = counts[j if per_position else 0] / counts[j if per_position else 0].sum()
                w = np.array([p * np.exp(-abs(received[b, j] - c) ** 2 / no) for p, c in zip(prior, points)])
                expected[b, j] = np.sum(w * points) / w.sum()
        np.testing.assert_allclose(layer(tf.constant(received), tf.constant(no)).numpy(), expected, atol=2e-6)
    _round_trip(layer)


def test_lmmse_scales_by_p_over_p_plus_n0_and_beats_every_other_scaling():
    spec = {"name": "lmmse", "snr": {"convention": "esno", "values": [3.0]},
            "curves": [{"name": "c", "source": {"type": "bits", "num_bits": 4000},
                        "stages": [{"type": "mapper", "modulation": "qam16"}, {"type": "awgn"}, {"type": "lmmse"}],
                        "metrics": [{"type": "mse", "sent": "symbols", "received": "estimate"}]}]}
    scenario = parse_scenario(spec)
    link, _ = build_curve(scenario, scenario.curves[0])
    no = link.noise_variance(3.0)
    taps = link(50, tf.constant(no, tf.float32), tf.constant(3.0), tf.constant([1, 1]))
    np.testing.assert_allclose(taps["estimate"].numpy(), taps["received"].numpy() / (1 + no), rtol=1e-6)
    sent, received = taps["symbols"].numpy(), taps["received"].numpy()
    mse = {g: np.mean(np.abs(g * received - sent) ** 2) for g in (1.0, 1 / (1 + no), 0.9 / (1 + no), 1.1 / (1 + no))}
    assert min(mse, key=mse.get) == 1 / (1 + no)
    assert mse[1 / (1 + no)] == pytest.approx(no / (1 + no), rel=0.03)  # the LMMSE error of unit-power symbols


def test_the_posterior_mean_stage_counts_the_encoders_points_when_its_curve_is_calibrated(tmp_path):
    spec = tiny_scdm()
    jcm = spec["curves"][0]["stages"]
    spec["curves"] = spec["curves"][:1] + [{
        "name": "histogram", "source": {"type": "images"},
        "stages": jcm[:2] + [{"type": "posterior_mean", "modulation": "qam16", "num_symbols": 16}] + jcm[2:],
        "metrics": [{"type": "mse", "sent": "symbols", "received": "denoised"}], "training": {"init_from": "jcm"}}]
    scenario = parse_scenario(spec)
    runner = trained_runner(scenario, str(tmp_path), [0, 1])
    runner.curve(0)  # trains the codec the histogram curve starts from
    link = runner.curve(1).link
    layer = link.stages[2].block
    encoder = link.stages[0].block
    train = scenario.data.load("train")
    sent = encoder(tf.constant(train, tf.float32) / 255.0, training=False).numpy()
    points = make_constellation("qam16").points.numpy()
    nearest = np.argmin(np.abs(sent[..., None] - points), -1)
    np.testing.assert_array_equal(layer.counts.numpy()[0], np.bincount(nearest.ravel(), minlength=16))


# ---------------------------------------------------------------------------------- JCM as published
def test_the_published_jcm_codec_shapes_power_sampling_and_analog_to_digital_copy():
    from linksim.models.jcm import JCMResNetDecoder, JCMResNetEncoder

    images = tf.random.uniform([3, 16, 16, 3], seed=9)
    encoder = JCMResNetEncoder(image_size=16, num_symbols=8, modulation="qam16")
    symbols = encoder(images, seed=tf.constant([1, 2]))
    assert symbols.shape == (3, 8) and symbols.dtype == tf.complex64
    np.testing.assert_allclose(np.mean(np.abs(symbols.numpy()) ** 2, -1), 1.0, rtol=1e-5)
    assert not np.allclose(symbols, encoder(images, seed=tf.constant([3, 4])))  # JCM samples at test time too
    decided = JCMResNetEncoder(image_size=16, num_symbols=8, modulation="qam16", stochastic=False)
    decided(images)
    decided.set_weights(encoder.get_weights())
    np.testing.assert_array_equal(decided(images, seed=tf.constant([1, 2])), decided(images, seed=tf.constant([3, 4])))
    assert JCMResNetDecoder(image_size=16, num_symbols=8, modulation="qam16")(symbols).shape == (3, 16, 16, 3)
    analog = JCMResNetEncoder(image_size=16, num_symbols=8, modulation="qam16", analog=True)
    analog(images)
    analog.set_weights(encoder.get_weights())  # the analog pre-training hands all its weights on
    _round_trip(encoder), _round_trip(analog)


def test_the_published_jcm_batch_norm_uses_batch_statistics_and_learns_them_only_in_training():
    from linksim.models.jcm import JCMResNetEncoder

    encoder = JCMResNetEncoder(image_size=16, num_symbols=8, modulation="qam16", stochastic=False)
    images = tf.random.uniform([6, 16, 16, 3], seed=10) * 3.0 + 1.0
    encoder(images)
    norms = [v for v in encoder.variables if "moving_mean" in v.path]
    start = [v.numpy().copy() for v in norms]
    features = encoder.features(images, training=False)
    assert all(np.array_equal(a, v.numpy()) for a, v in zip(start, norms))  # evaluation leaves the statistics alone
    trained = encoder.features(images, training=True)
    assert not np.allclose(features, trained)  # batch statistics differ from the initial running ones
    assert all(not np.array_equal(a, v.numpy()) for a, v in zip(start, norms))  # training moves every running mean


@pytest.mark.parametrize("analog", [True, False])
def test_training_steps_lower_the_published_codecs_image_mse(analog):
    from linksim.models.jcm import JCMResNetDecoder, JCMResNetEncoder

    tf.keras.utils.set_random_seed(4)
    images = tf.random.uniform([4, 16, 16, 3], seed=11)
    encoder = JCMResNetEncoder(image_size=16, num_symbols=8, modulation="qam16", analog=analog)
    decoder = JCMResNetDecoder(image_size=16, num_symbols=8, modulation="qam16")
    optimizer = tf.keras.optimizers.Adam(1e-3)

    def loss(step):
        return tf.reduce_mean(tf.square(decoder(encoder(images, training=True, seed=tf.constant([0, step])), training=True) - images))

    before = float(loss(0))
    for step in range(3):
        with tf.GradientTape() as tape:
            value = loss(step)
        variables = encoder.trainable_variables + decoder.trainable_variables
        optimizer.apply_gradients(zip(tape.gradient(value, variables), variables))
    assert float(loss(0)) < 0.7 * before


def test_the_published_codec_pretrains_analog_and_the_digital_curve_starts_from_it(tmp_path, eager):
    """JCM's recipe in a scenario: the analog curve trains, the digital curve's init_from copies every
    weight of it, and the digital codec then trains on."""
    codec = [{"type": "jcm_encoder", "modulation": "qam16", "num_symbols": 8, "analog": True}, {"type": "awgn"},
             {"type": "jcm_decoder", "modulation": "qam16", "num_symbols": 8}]
    stage = {"name": "codec", "train": ["symbols", "reconstruction"], "steps": 2, "batch_size": 2, "learning_rate": 1e-3,
             "snr": {"low": 10.0, "high": 10.0}}
    spec = {"name": "jcm_recipe", "seed": 3, "data": {"patch_size": 16}, "snr": {"convention": "esno", "values": [10.0]},
            "montecarlo": {"batch_size": 2, "max_samples": 2, "target_errors": None, "execution": "graph"},
            "curves": [{"name": "analog", "source": {"type": "images"}, "stages": codec, "metrics": [{"type": "psnr"}],
                        "training": {"stages": [stage]}},
                       {"name": "digital", "source": {"type": "images"}, "stages": [{**codec[0], "analog": False}] + codec[1:],
                        "metrics": [{"type": "psnr"}], "training": {"init_from": "analog", "stages": [{**stage, "steps": 1}]}}]}
    scenario = parse_scenario(spec)
    untrained, _ = build_curve(scenario, scenario.curves[0])
    Trainer(scenario, 0, untrained, root=str(tmp_path / "untrained"), progress=None).run(max_epochs=0)
    analog = trained_runner(scenario, str(tmp_path), [0]).curve(0).link
    assert not all(np.array_equal(x, y) for x, y in zip(_weights(untrained.stages[2].block), _weights(analog.stages[2].block)))
    digital, _ = build_curve(scenario, scenario.curves[1])
    trainer = Trainer(scenario, 1, digital, root=str(tmp_path), progress=None)
    trainer.run(max_epochs=0)
    for a, b in zip(analog.stages, digital.stages):
        if a.learned:
            assert all(np.array_equal(x, y) for x, y in zip(_weights(a.block), _weights(b.block))), a.tap
    trainer.run()
    assert not all(np.array_equal(x, y) for x, y in zip(_weights(analog.stages[2].block), _weights(digital.stages[2].block)))

    spec["curves"][1]["stages"][2] = {**codec[2], "modulation": "qam64"}
    with pytest.raises(InputError, match=r"'modulation' and 'num_symbols' must be the encoder's \(qam16, 8\)"):
        parse_scenario(spec)


@pytest.mark.parametrize("esno_db", [-12.0, 0.0, 12.0])
def test_the_links_received_minus_sent_noise_is_the_variance_of_the_level_the_denoiser_starts_at(esno_db):
    """What the SCDM link's channel adds has variance N0 (chi-square interval), and the denoiser starts at
    the level whose σ² is within half a level step of it (σ = √N0 is the VE diffusion's noise)."""
    from scipy.stats import chi2

    spec = tiny_scdm()
    curve = {**{k: v for k, v in spec["curves"][1].items() if k != "training"}, "weights": "random"}
    scenario = parse_scenario({**spec, "snr": {"convention": "esno", "values": [esno_db]}, "curves": [curve]})
    link, _ = build_curve(scenario, scenario.curves[0])
    no = link.noise_variance(esno_db)
    images = tf.constant(scenario.data.load("test")[:64], tf.float32) / 255.0
    taps = link(64, tf.constant(no, tf.float32), tf.constant(esno_db), tf.constant([2, 3]), inputs=images, until="received")
    noise = (taps["received"] - taps["symbols"]).numpy()
    dof = 2 * noise.size  # real and imaginary parts, each of variance N0 / 2
    total = np.sum(np.abs(noise) ** 2) / (no / 2)
    assert chi2.ppf(1e-4, dof) < total < chi2.ppf(1 - 1e-4, dof)
    denoiser = link.stages[2].block
    sigmas = denoiser.schedule.sigmas
    level = int(denoiser.start_level(tf.constant(no, tf.float32)))
    half_step = sigmas[1] / sigmas[0]  # the square root of the σ² ratio of neighbouring levels
    assert sigmas[level] ** 2 / half_step <= no * (1 + 1e-6) and no <= sigmas[level] ** 2 * half_step * (1 + 1e-6)
