"""AMP-SC: blocks, quantizer/AD/DA exactness, MATK, BSC flip rate, which weights each AMP step trains, a tiny run."""
import copy

import keras
import numpy as np
import pytest
import tensorflow as tf
import yaml

from conftest import assert_in_binomial_interval
from tests.conftest import trained_runner
from tests.test_cli_and_results import _cells
from linksim.run.montecarlo import ChunkRunner, LocalExecutor, run_scenario
from linksim.output.results import Results
from linksim.scenario import build_curve, parse_scenario
from linksim.run.training import CurveWeights, Trainer
from linksim.models.amp_sc import AMPDecoder, AMPEncoder, IRSNet, ResidualBlock, SqueezeExcitation
from linksim.phy.channels import random_erasure
from linksim.phy.ber_theory import ber_awgn


def _round_trip(layer, x):
    clone = type(layer).from_config(layer.get_config())
    restored = keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(layer), safe_mode=True)
    assert type(restored) is type(layer) and restored.get_config() == layer.get_config()
    clone(x)
    clone.set_weights(layer.get_weights())
    np.testing.assert_array_equal(clone(x).numpy(), layer(x).numpy())


def test_blocks_shapes_ranges_and_config_round_trips():
    images = tf.random.uniform([2, 16, 16, 3], seed=1)
    encoder = AMPEncoder(image_size=16, latent_channels=4, filters=8, num_bits=4)
    features = encoder(images)
    assert features.shape == (2, 4 * 4 * 4)
    assert float(tf.reduce_min(features)) >= -0.5 and float(tf.reduce_max(features)) <= 15.5
    irsnet = IRSNet(image_size=16, latent_channels=4, filters=8)
    restored = irsnet(features)
    decoder = AMPDecoder(image_size=16, latent_channels=4, filters=8)
    out = decoder(restored)
    assert restored.shape == features.shape and out.shape == (2, 16, 16, 3)
    assert float(tf.reduce_min(out)) >= 0 and float(tf.reduce_max(out)) <= 1
    for layer, x in ((encoder, images), (irsnet, features), (decoder, features)):
        _round_trip(layer, x)
    # block counts of Table III (CIFAR-10: 6 RCB / 5 SE each side) and of IRSNet (9 RCB + 2 T-RCB)
    count = lambda chain, kind: sum(isinstance(b, kind) for b in chain)  # noqa: E731
    assert (count(encoder.chain, ResidualBlock), count(encoder.chain, SqueezeExcitation)) == (6, 5)
    assert (count(decoder.chain, ResidualBlock), count(decoder.chain, SqueezeExcitation)) == (6, 5)
    assert all(b.transposed for b in decoder.chain if isinstance(b, ResidualBlock))
    blocks = irsnet.down + [irsnet.project] + irsnet.up
    assert (sum(not b.transposed for b in blocks), sum(b.transposed for b in blocks)) == (9, 2)
    high = AMPEncoder(image_size=64, latent_channels=4, filters=4, downsamplings=4)
    high(tf.zeros([1, 64, 64, 3]))
    assert (count(high.chain, ResidualBlock), count(high.chain, SqueezeExcitation)) == (8, 7)


@pytest.mark.parametrize("make", [
    lambda: AMPEncoder(image_size=30),
    lambda: AMPEncoder(num_bits=0),
    lambda: AMPDecoder(extraction=-1),
    lambda: ResidualBlock(0),
])
def test_bad_hyper_parameters_are_rejected(make):
    with pytest.raises(ValueError):
        make()


def test_a_training_step_lowers_the_l1_loss():
    keras.utils.set_random_seed(1)
    colours = tf.random.uniform([8, 1, 1, 3], seed=2)
    images = tf.broadcast_to(colours, [8, 16, 16, 3])  # learnable: one colour per image
    parts = [AMPEncoder(image_size=16, latent_channels=4, filters=8), IRSNet(image_size=16, latent_channels=4, filters=8),
             AMPDecoder(image_size=16, latent_channels=4, filters=8)]

    def loss():
        x = images
        for p in parts:
            x = p(x)
        return tf.reduce_mean(tf.abs(x - images))

    before = float(loss())
    variables = [v for p in parts for v in p.trainable_variables]
    optimizer = keras.optimizers.Adam(3e-3)
    for _ in range(15):
        with tf.GradientTape() as tape:
            value = loss()
        optimizer.apply_gradients(zip(tape.gradient(value, variables), variables))
    assert float(loss()) < 0.92 * before


def test_quantizer_ad_da_are_exact_on_the_encoders_value_range():
    spec = tiny_amp()
    scenario = parse_scenario(spec)
    link, _ = build_curve(scenario, scenario.curves[0])
    q, ad, _, da = link.stages[1], link.stages[2], link.stages[3], link.stages[4]
    x = tf.constant(np.linspace(-0.5, 15.5, 64 * 100, dtype=np.float32).reshape(100, 64))
    index = q.apply(x, None)
    bits = ad.apply(index, None)
    back = da.apply(bits, None)
    expected = np.clip(np.floor(x.numpy() + 0.5), 0, 15)  # round half up, as the quantizer
    np.testing.assert_array_equal(index.numpy(), expected)
    np.testing.assert_array_equal(back.numpy(), expected)
    assert bits.shape == (100, 64 * 4) and set(np.unique(bits.numpy())) == {0.0, 1.0}
    # natural binary, MSB first (eq. 2): 13 → 1101
    np.testing.assert_array_equal(ad.apply(tf.constant([[13]]), None).numpy(), [[1, 1, 0, 1]])


def test_mask_attack_erasure_zeroes_the_ratio_and_keeps_the_rest_differentiable():
    x = tf.Variable(tf.random.uniform([200, 512], 1.0, 2.0, seed=3))
    with tf.GradientTape() as tape:
        y = random_erasure(x, 0.025, tf.constant([5, 6]))
        loss = tf.reduce_sum(y)
    zeroed = int(tf.reduce_sum(tf.cast(y == 0, tf.int32)))
    assert_in_binomial_interval(zeroed, 200 * 512, 0.025)
    kept = y.numpy() != 0
    np.testing.assert_array_equal(y.numpy()[kept], x.numpy()[kept])
    np.testing.assert_array_equal(tape.gradient(loss, x).numpy(), kept.astype(np.float32))


def test_the_mask_attack_writes_its_value_and_only_a_non_default_value_changes_the_checkpoint():
    """The paper's equations (s ≥ 0 in eq. 2, z̃·M in eq. 12) erase to level 0, the lowest; the public
    code's zero is a mid-range level (7 of 0 … 15), which ``mask_value`` selects."""
    x = tf.random.uniform([100, 256], 0.0, 15.0, seed=2)
    y = random_erasure(x, 0.5, tf.constant([1, 2]), value=7.0)
    erased = y.numpy() != x.numpy()
    assert_in_binomial_interval(int(erased.sum()), erased.size, 0.5)
    np.testing.assert_array_equal(y.numpy()[erased], 7.0)
    from linksim.run.checkpoints import config_hash

    def hashed(channel):
        spec = tiny_amp()
        spec["curves"][2]["training"]["stages"][0]["channel"] = channel
        scenario = parse_scenario(spec)
        return config_hash(scenario, scenario.curves[2])

    matk = {"type": "phy", "flip_probability": 0.0125, "mask_ratio": 0.025}
    assert hashed(matk) == hashed({**matk, "mask_value": 0.0}) != hashed({**matk, "mask_value": 7.0})


@pytest.mark.parametrize("ebno", [2.0, 7.5])
def test_the_bsc_flip_rate_equals_the_16qam_ber_at_eb_n0(ebno):
    scenario = parse_scenario(tiny_amp())
    link, _ = build_curve(scenario, scenario.curves[1])  # softq: bsc standing for Gray 16-QAM
    taps = link(64, tf.constant(link.noise_variance(ebno), tf.float32), tf.constant(ebno), tf.constant([1, 2]),
                tf.constant(link.point_values(ebno), tf.float32), inputs=tf.random.uniform([64, 16, 16, 3], seed=4), until="received_bits")
    flips = int(tf.reduce_sum(tf.cast(taps["ad_bits"] != taps["received_bits"], tf.int32)))
    assert_in_binomial_interval(flips, int(tf.size(taps["ad_bits"])), float(ber_awgn("qam16", ebno, "ebno")))


# ---------------------------------------------------------------------------------- schedules
def tiny_amp():
    enc = {"type": "amp_encoder", "num_bits": 4, "latent_channels": 4, "filters": 4}
    digital = [{"type": "quantizer", "num_bits": 4, "minval": 0, "maxval": 15}, {"type": "ad", "num_bits": 4}]
    dec = {"type": "amp_decoder", "latent_channels": 4, "filters": 4}
    irs = {"type": "irsnet", "latent_channels": 4, "filters": 4}
    bsc = {"type": "bsc", "modulation": "qam16"}
    metrics = [{"type": "psnr"}, {"type": "ber", "sent": "ad_bits", "received": "received_bits"}]
    common = {"loss": "l1", "steps": 2, "batch_size": 8, "snr": {"low": 0.0, "high": 0.0}}
    matk = {"type": "phy", "flip_probability": 0.0125, "mask_ratio": 0.025}
    step3 = {"name": "step3", "train": ["restored", "reconstruction"], "channel": matk,
             **common, "loss": {"type": "l1", "restoration": {"output": "restored", "target": "quantized"}}}
    step4 = {"name": "step4", "train": ["features", "restored", "reconstruction"],
             "channel": {"type": "surrogate", "noise": "gaussian", "alpha": 0.5, "mask_ratio": 0.025}, **common}
    return {
        "name": "tiny_amp", "seed": 2, "data": {"patch_size": 16},
        "snr": {"convention": "ebno", "values": [0.0, 8.0]},
        "montecarlo": {"batch_size": 8, "max_samples": 8, "target_errors": None, "stop_after_error_free": False, "execution": "graph"},
        "curves": [
            {"name": "conventional", "source": {"type": "images"},
             "stages": [enc, *digital, {"type": "bsc", "error_probability": 0.0, "modulation": "qam16"}, {"type": "da", "num_bits": 4}, dec],
             "metrics": metrics,
             "training": {"stages": [{"name": "fe", "train": ["features", "reconstruction"], "channel": "analog", **common}]}},
            {"name": "softq", "source": {"type": "images"}, "stages": [enc, *digital, bsc, {"type": "da", "num_bits": 4}, dec],
             "metrics": metrics,
             "training": {"init_from": "conventional", "stages": [{"name": "softq", "train": ["features", "reconstruction"],
                                                                   "channel": {"type": "surrogate", "noise": "gaussian"}, **common}]}},
            {"name": "amp-sc", "source": {"type": "images"}, "stages": [enc, *digital, bsc, {"type": "da", "num_bits": 4}, irs, dec],
             "metrics": metrics, "training": {"init_from": "softq", "stages": [step3, step4, {**step3, "name": "step5", "channel": {**matk, "mask_ratio": 0.0}}]}},
            {"name": "amp-sc-phy", "signal_power": "nominal", "source": {"type": "images"},
             "stages": [enc, *digital, {"type": "mapper", "modulation": "qam16"}, {"type": "awgn"},
                        {"type": "slicer", "modulation": "qam16", "tap": "received_bits"}, {"type": "da", "num_bits": 4}, irs, dec],
             "metrics": metrics, "training": {"init_from": "amp-sc"}},
        ],
    }


def _weights(link):
    return {s.tap: [w.copy() for w in s.block.get_weights()] for s in link.stages if s.learned}


def _changed(before, after):
    return {tap for tap in before if any(not np.array_equal(a, b) for a, b in zip(before[tap], after[tap]))}


def test_each_amp_step_updates_exactly_its_weights(tmp_path, eager):
    spec = tiny_amp()
    spec["curves"][2]["training"]["stages"] = []  # amp-sc: run the steps one by one below
    spec["curves"][2]["training"]["init_from"] = "softq"
    scenario = parse_scenario(spec)
    runner = trained_runner(scenario, str(tmp_path), [0, 1])
    runner.curve(0)
    runner.curve(1)
    full = tiny_amp()
    for k, expected in enumerate([{"restored", "reconstruction"}, {"features", "restored", "reconstruction"}, {"restored", "reconstruction"}]):
        one = copy.deepcopy(spec)
        one["curves"][2]["training"]["stages"] = [full["curves"][2]["training"]["stages"][k]]
        s = parse_scenario(one)
        link, _ = build_curve(s, s.curves[2])
        trainer = Trainer(s, 2, link, root=str(tmp_path), progress=None)
        trainer.run(max_epochs=0)
        before = _weights(link)
        trainer.run()
        assert _changed(before, _weights(link)) == expected, s.curves[2].training.stages[0].name
    # Step 1 (analog) trains the encoder and decoder of the conventional curve
    s = parse_scenario(copy.deepcopy(spec))
    link, _ = build_curve(s, s.curves[0])
    trainer = Trainer(s, 0, link, root=str(tmp_path / "fresh"), progress=None)
    trainer.run(max_epochs=0)
    before = _weights(link)
    trainer.run()
    assert _changed(before, _weights(link)) == {"features", "reconstruction"}


def test_training_fixes_the_flip_probability_of_bsc_stages_only():
    scenario = parse_scenario(tiny_amp())
    link, _ = build_curve(scenario, scenario.curves[2])
    trainer = Trainer(scenario, 2, link, root="/nonexistent", progress=None)
    step3 = scenario.curves[2].training.stages[0]
    values = trainer.point_values(step3, 3.0)
    types = [s.type for s in scenario.curves[2].stages]
    assert values[types.index("bsc")] == 0.0125
    assert all(v == 0 for v, t in zip(values, types) if t != "bsc")
    step4 = scenario.curves[2].training.stages[1]  # no fixed p: the closed form at the training SNR
    assert trainer.point_values(step4, 3.0)[types.index("bsc")] == pytest.approx(ber_awgn("qam16", 3.0, "ebno"))


def test_tiny_amp_sc_scenario_end_to_end(tmp_path, monkeypatch, capsys, eager):
    monkeypatch.chdir(tmp_path)
    from linksim.cli import main

    (tmp_path / "amp.yaml").write_text(yaml.safe_dump(tiny_amp()))
    assert main(["run", "amp.yaml", "--out", "amp.h5", "--quiet"]) == 0
    results = Results.load("amp.h5")
    assert [c.name for c in results.curves] == ["conventional", "softq", "amp-sc", "amp-sc-phy"]
    conventional = results.curves[0]
    psnr = [p.stats["psnr"]["sum"] for p in conventional.points]
    assert len(psnr) == 2 and psnr[0] == psnr[1]  # no flips: the same images at every SNR
    assert all(p.stats["ber"]["errors"] == 0 for p in conventional.points)
    # the phy curve carries the amp-sc weights
    scenario = parse_scenario(tiny_amp())
    runner = ChunkRunner(scenario, CurveWeights(scenario, "checkpoints"))
    a, b = _weights(runner.curve(2).link), _weights(runner.curve(3).link)
    assert a.keys() == b.keys() and not _changed(a, b)
    # `linksim compare`: per-SNR differences to a baseline and their mean
    capsys.readouterr()
    assert main(["compare", "amp.h5", "--baseline", "softq"]) == 0
    header, *rows = _cells(capsys.readouterr().out)
    mean = rows[-1]
    psnr = {c.name: [p.stats["psnr"]["sum"] / p.stats["psnr"]["count"] for p in c.points] for c in results.curves}
    gap = np.mean(np.subtract(psnr["amp-sc"], psnr["softq"]))
    assert mean[0] == "mean" and float(mean[header.index("amp-sc")]) == pytest.approx(np.mean(psnr["amp-sc"]), rel=1e-3)
    assert float(mean[header.index("amp-sc") + 1]) == pytest.approx(gap, abs=0.006)
    assert Results.load("amp.h5").gaps("softq", "psnr")["amp-sc"].value == pytest.approx(gap, rel=1e-9)


def test_gdn_divides_each_channel_by_the_norm_of_all_and_keeps_a_gradient_at_its_bound():
    from linksim.models.amp_sc import GDN

    gdn = GDN()
    x = tf.random.normal([2, 3, 3, 4], seed=1)
    gdn.build(x.shape)
    beta = np.linspace(0.5, 2.0, 4).astype(np.float32)
    gamma = np.abs(np.random.default_rng(0).normal(size=(4, 4))).astype(np.float32) * 0.2
    gdn.beta_root.assign(np.sqrt(beta + GDN.OFFSET**2))
    gdn.gamma_root.assign(np.sqrt(gamma + GDN.OFFSET**2))
    expected = x.numpy() / np.sqrt(beta + np.einsum("bhwj,ji->bhwi", x.numpy() ** 2, gamma))
    np.testing.assert_allclose(gdn(x).numpy(), expected, rtol=1e-5)
    gdn.gamma_root.assign(np.full((4, 4), GDN.OFFSET / 2, np.float32))  # below the bound: every γ is 0
    with tf.GradientTape() as tape:
        loss = -tf.reduce_sum(gdn(x) ** 2)  # lowered by lowering γ, which the bound stops
    assert np.all(tape.gradient(loss, gdn.gamma_root).numpy() == 0)
    with tf.GradientTape() as tape:
        loss = tf.reduce_sum(gdn(x) ** 2)  # lowered by raising γ: the gradient passes the bound
    assert np.all(tape.gradient(loss, gdn.gamma_root).numpy() < 0)


def test_the_public_style_blocks_follow_the_authors_code():
    """RCB: k×k conv, GDN, PReLU, 1×1 conv, GDN, identity shortcut unless the width or stride changes,
    no biases; IRSNet 2C/4C/8C with 3×3 kernels, additive skips, no global residual."""
    same = ResidualBlock(8, 5, style="public", activation="prelu")
    same.build((None, 4, 4, 8))
    assert same.shortcut is None and same.conv2.kernel_size == (1, 1) and not same.conv1.use_bias
    assert [tuple(w.shape) for w in same.prelu.trainable_weights] == [(1, 1, 1)]
    widened = ResidualBlock(16, 5, strides=2, style="public")
    widened.build((None, 4, 4, 8))
    assert widened.shortcut is not None and widened.shortcut.kernel_size == (1, 1)
    irs = IRSNet(image_size=16, latent_channels=4, downsamplings=2, style="public")
    irs.build((None, 4 * 4 * 4))
    assert [b.filters for b in irs.down] == [8, 16, 16, 32, 32] and irs.project.filters == 32
    assert all(b.kernel_size == 3 for b in irs.down + irs.up) and irs.project.kernel_size == 1
    z = tf.random.uniform([2, 64])
    assert irs(z).shape == (2, 64)
    encoder = AMPEncoder(image_size=16, latent_channels=4, filters=8, style="public")
    decoder = AMPDecoder(image_size=16, latent_channels=4, filters=8, style="public")
    images = tf.random.uniform([2, 16, 16, 3])
    assert decoder(irs(encoder(images))).shape == (2, 16, 16, 3)


def test_the_high_resolution_paper_config_has_table_vs_parameter_counts(tmp_path):
    """Table V (3×128×128 input): SoftHe22's receiver 11.180 M, AMP-SC's 12.917 M. The public-style
    decoder of scenarios/amp_sc_paper_highres.yaml has exactly 11.180 M weights besides its GDN
    weights (0.921 M), so Table V does not count GDN; counted the same way the receiver with IRSNet
    is 13.917 M — 1.000 M above Table V's figure (within the 10 % the check allows)."""
    import pathlib

    import yaml

    from tests.test_shipped_scenarios import _stand_in

    path = pathlib.Path(__file__).resolve().parents[1] / "scenarios" / "amp_sc_paper_highres.yaml"
    spec = yaml.safe_load(path.read_text())
    spec["data"] = _stand_in(dict(spec["data"]), tmp_path)
    amp = parse_scenario(spec).curve_named("amp-sc")
    decoder, irsnet = (next(s for s in amp.stages if s.type == kind) for kind in ("amp_decoder", "irsnet"))
    geometry = dict(image_size=128, latent_channels=decoder.latent_channels, downsamplings=decoder.downsamplings, style=decoder.style)
    dec = AMPDecoder(filters=decoder.filters, kernel_size=decoder.kernel_size, extraction=decoder.extraction, **geometry)
    irs = IRSNet(**geometry)
    features = tf.zeros([1, dec.num_features])
    dec(irs(features))

    def counted(layer):  # Table V's way: every weight but GDN's
        return sum(int(np.prod(w.shape)) for w in layer.trainable_weights if "beta_root" not in w.path and "gamma_root" not in w.path)

    assert counted(dec) / 1e6 == pytest.approx(11.180, rel=0.001)
    assert (counted(dec) + counted(irs)) / 1e6 == pytest.approx(12.917, rel=0.10)


def test_codec_trained_on_crops_codes_whole_test_images_with_the_same_weights(tmp_path, write_scenario, capsys):
    """``whole_test_images``: the links train on 16×16 crops and evaluate on whole 32×48 pictures
    (a portrait one turned) with the trained weights; a stage sized to its input is refused."""
    from PIL import Image

    from linksim.cli import main
    from linksim.scenario import carried_shape

    rng = np.random.default_rng(4)
    (tmp_path / "imgs").mkdir()
    Image.fromarray(rng.integers(0, 256, (32, 48, 3), dtype=np.uint8)).save(tmp_path / "imgs" / "a.png")
    Image.fromarray(rng.integers(0, 256, (48, 32, 3), dtype=np.uint8)).save(tmp_path / "imgs" / "b.png")
    spec = tiny_amp()
    spec["data"] = {"dataset": "image-folder", "path": str(tmp_path / "imgs"), "patch_size": 16, "train_crops": 16,
                    "turn_portrait": True, "whole_test_images": True}
    amp = spec["curves"][2]
    amp["training"] = {"stages": [{**amp["training"]["stages"][1], "steps": 1}]}   # one step4-like stage trains every part
    analog = {"name": "analog", "signal_power": "measured", "source": {"type": "images"},   # the noise refers to the measured power
              "stages": [spec["curves"][0]["stages"][0], {"type": "real_awgn"}, spec["curves"][0]["stages"][-1]], "metrics": [{"type": "psnr"}],
              "training": {"stages": [{**spec["curves"][0]["training"]["stages"][0], "train": ["reconstruction"], "steps": 1}]}}
    spec["curves"] = [amp, analog]
    spec["snr"]["convention"] = "snr"   # an analog curve has no bits per symbol; bits then stand for real BPSK
    amp["stages"][3] = {"type": "bsc", "modulation": "bpsk"}
    spec["montecarlo"].update(batch_size=2, max_samples=2)
    scenario = parse_scenario(spec)
    amp = scenario.curves[0]
    assert carried_shape(scenario, amp, training=True) == (16, 16, 3) and carried_shape(scenario, amp) == (32, 48, 3)

    runner = trained_runner(scenario, str(tmp_path / "ckpt"), [0, 1])
    link = runner.curve(0).link
    taps = link(2, tf.constant(0.1), tf.constant(8.0), tf.constant([1, 2]), tf.constant(link.point_values(8.0), tf.float32),
                chunk=tf.constant(0), max_samples=2)
    assert taps["images"].shape == taps["reconstruction"].shape == (2, 32, 48, 3)
    assert taps["features"].shape == (2, 8 * 12 * 4)   # h × w × C of the whole picture, not of a crop
    trained, _ = build_curve(scenario, amp, training=True)
    CurveWeights(scenario, str(tmp_path / "ckpt")).load(0, trained)
    assert trained.sample_shape == (16, 16, 3)
    for tap in ("features", "restored", "reconstruction"):   # the same weights serve both sizes
        at_crops, whole = (next(s.block for s in link_.stages if s.tap == tap) for link_ in (trained, link))
        for a, b in zip(at_crops.get_weights(), whole.get_weights(), strict=True):
            np.testing.assert_array_equal(a, b)
    encoder = AMPEncoder(image_size=(32, 48), latent_channels=4, filters=4)   # built here, given the crop-trained weights
    encoder(taps["images"])
    encoder.set_weights(next(s.block for s in trained.stages if s.tap == "features").get_weights())
    np.testing.assert_allclose(encoder(taps["images"]).numpy(), taps["features"].numpy(), atol=1e-5)
    points = run_scenario(scenario, LocalExecutor(scenario, str(tmp_path / "ckpt")))
    assert [p.stats["psnr"]["count"] for p in points if p.snr_db == 8.0] == [2, 2]

    measured = runner.curve(1).link   # signal power: over the 16×16 training crops, with the weights the whole-image link holds
    crops = AMPEncoder(image_size=16, latent_channels=4, filters=4)
    crops(tf.zeros([1, 16, 16, 3]))
    crops.set_weights(measured.stages[0].block.get_weights())
    power = np.mean(np.square(crops(scenario.data.load("train", scenario.seed) / 255.0).numpy().astype(np.float64)))
    assert measured.sample_shape == (32, 48, 3) and measured.signal_power == pytest.approx(power, rel=1e-5)

    fixed = copy.deepcopy(spec)
    fixed["curves"][0]["stages"][-1] = {"type": "conv_decoder", "latent_channels": 4}
    capsys.readouterr()
    assert main(["validate", write_scenario(fixed)]) == 2
    err = capsys.readouterr().err
    assert "has weights sized to its input, but the dataset trains on 16×16×3 and tests on 32×48×3 samples" in err and err.count("\n") == 1, err
