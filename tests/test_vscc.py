"""VSCC: layer shapes and configs, the KL terms against closed forms, the knowledge base, the
transmit power option, resampling statistics, a training step, one-line errors."""
import copy

import keras
import numpy as np
import pytest
import tensorflow as tf

from linksim.cli import main
from linksim.engine.errors import InputError
from linksim.scenario import build_curve, parse_scenario
from linksim.run.training import Trainer
from linksim.models.attention import AttentionBlock
from linksim.models.vscc import VARIANCE_FORMS, ResnetBlock, VSCCDecoder, VSCCEncoder, vae_kl, variance_as_sent, vscc_kl

WIDTHS = [4, 8]  # two halvings: 16×16 patches → 4×4×k latents


def tiny_vscc(prior="channel", send="moments", resample="tx", power="none", steps=2, repeat=1):
    enc = {"type": "vscc_encoder", "channels": WIDTHS, "latent_channels": 2, "mid_blocks": 1, "prior": prior, "d": 2.0,
           "kl_weight": 0.01, "send": send, "power_normalization": power, "resample": prior != "none"}
    dec = {"type": "vscc_decoder", "channels": WIDTHS, "latent_channels": 2, "mid_blocks": 1, "resample": resample}
    return {
        "name": "tiny_vscc", "seed": 4, "data": {"patch_size": 16},
        "snr": {"convention": "snr", "values": [0.0, 10.0]},
        "montecarlo": {"batch_size": 8 * repeat, "max_samples": 16 * repeat, "target_errors": None, "execution": "graph"},
        "curves": [{
            "name": "vscc", "signal_power": "nominal", "source": {"type": "images", "repeat": repeat},
            "stages": [enc, {"type": "real_awgn"}, dec],
            "metrics": [{"type": "psnr", "draws": repeat}, {"type": "power", "sent": "sent"}],
            "training": {"stages": [{"name": "vscc", "train": ["sent", "reconstruction"], "steps": steps, "batch_size": 8,
                                     "learning_rate": 1e-3, "snr": {"low": 0.0, "high": 0.0}}]},
        }],
    }


@pytest.mark.parametrize("layer, shape, out", [
    (ResnetBlock(8), (2, 8, 8, 4), (2, 8, 8, 8)),
    (AttentionBlock(), (2, 4, 4, 8), (2, 4, 4, 8)),
    (VSCCEncoder(channels=WIDTHS, latent_channels=2, mid_blocks=1, image_size=16, send="moments"), (2, 16, 16, 3), (2, 64)),
    (VSCCDecoder(channels=WIDTHS, latent_channels=2, mid_blocks=1, image_size=16, resample="tx"), (2, 64), (2, 16, 16, 3)),
])
def test_layer_shapes_and_config_round_trips(layer, shape, out):
    assert tuple(layer(tf.random.uniform(shape, seed=1)).shape) == out
    clone = type(layer).from_config(layer.get_config())
    assert clone.get_config() == layer.get_config()
    restored = keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(layer), safe_mode=True)
    assert type(restored) is type(layer)


def test_the_paper_geometry_keeps_k_over_n_at_one_48th():
    encoder = VSCCEncoder(channels=[32, 64, 128, 192], latent_channels=16, image_size=32)
    sent = encoder(tf.zeros([1, 32, 32, 3]))
    assert sent.shape[1] / (32 * 32 * 3) == pytest.approx(1 / 48)  # 2×2×16; 256×256 crops give 16×16×16


def _gaussian_kl(m1, v1, m2, v2):
    return 0.5 * (np.log(v2 / v1) + (v1 + (m1 - m2) ** 2) / v2 - 1)


def test_the_kl_terms_equal_the_closed_form_and_vscc_is_minimised_at_the_cmc():
    rng = np.random.default_rng(2)
    mean, log_var = rng.normal(size=50), rng.normal(size=50)
    noise, d = 0.3, 5.0
    np.testing.assert_allclose(vscc_kl(tf.constant(mean), tf.constant(log_var), noise, d).numpy(),
                               _gaussian_kl(mean, np.exp(log_var) + noise, 0.0, noise + d), rtol=1e-5)
    np.testing.assert_allclose(vae_kl(tf.constant(mean), tf.constant(log_var)).numpy(), _gaussian_kl(mean, np.exp(log_var), 0.0, 1.0),
                               rtol=1e-5)
    variances = np.linspace(0.5, 10, 400)
    kl = vscc_kl(tf.zeros(400, tf.float64), tf.constant(np.log(variances)), noise, d).numpy()
    assert variances[np.argmin(kl)] == pytest.approx(d, abs=0.03) and kl.min() == pytest.approx(0.0, abs=1e-6)


def test_the_encoder_adds_its_prior_kl_in_training_only():
    images = tf.random.uniform([4, 16, 16, 3], seed=3)
    for prior, expected in (("channel", lambda m, v: vscc_kl(m, v, 0.5, 2.0)), ("standard", vae_kl)):
        encoder = VSCCEncoder(channels=WIDTHS, latent_channels=2, mid_blocks=1, image_size=16, prior=prior, d=2.0, kl_weight=0.25)
        encoder(images, no=0.5, training=False)
        assert not encoder.losses
        encoder(images, no=0.5, training=True, seed=tf.constant([1, 2]))
        mean, log_var = encoder.moments(images)
        assert float(encoder.losses[0]) == pytest.approx(0.25 * float(tf.reduce_mean(expected(mean, log_var))), rel=1e-5)
    ae = VSCCEncoder(channels=WIDTHS, latent_channels=2, mid_blocks=1, image_size=16, prior="none", resample=False)
    sent = ae(images, training=True)
    assert not ae.losses
    np.testing.assert_array_equal(sent.numpy(), ae.moments(images)[0].numpy())  # the AE sends μ, no sample


def test_the_training_sample_has_the_encoder_variance():
    encoder = VSCCEncoder(channels=WIDTHS, latent_channels=2, mid_blocks=1, image_size=16)
    images = tf.tile(tf.random.uniform([1, 16, 16, 3], seed=5), [2000, 1, 1, 1])  # one image, 2000 rows
    draws = encoder(images, training=True, seed=tf.constant([3, 7]))  # [2000, n], independent noise per row
    mean, log_var = encoder.moments(images[:1])
    z = ((draws - mean) / tf.exp(0.5 * log_var)).numpy().ravel()
    assert abs(z.mean()) < 0.01 and abs(z.var() - 1) < 0.02


def test_unit_power_normalisation_sends_unit_power_and_none_sends_the_mean():
    images = tf.random.uniform([6, 16, 16, 3], seed=6)
    unit = VSCCEncoder(channels=WIDTHS, latent_channels=2, mid_blocks=1, image_size=16, power_normalization="unit")
    sent = unit(images)
    np.testing.assert_allclose(np.mean(sent.numpy() ** 2, axis=1), 1.0, rtol=1e-5)
    plain = VSCCEncoder.from_config({**unit.get_config(), "power_normalization": "none"})
    plain(images)
    plain.set_weights(unit.get_weights())
    np.testing.assert_array_equal(plain(images).numpy(), unit.moments(images)[0].numpy())


def test_the_measured_power_metric_records_the_sent_power(tmp_path):
    for power in ("unit", "none"):
        scenario = parse_scenario(tiny_vscc(power=power, send="mean", resample="kb"))
        link, metrics = build_curve(scenario, scenario.curves[0])
        taps = link(8, tf.constant(1.0), tf.constant(0.0), tf.constant([1, 2]), tf.zeros([3]))
        stats = next(m for m in metrics if m.name == "power").update(taps)
        expected = np.mean(taps["sent"].numpy() ** 2)
        assert float(stats["sum"]) / float(stats["count"]) == pytest.approx(1.0 if power == "unit" else expected, rel=1e-5)


def test_kb_and_tx_resampling_add_the_stated_variance():
    decoder = VSCCDecoder(channels=WIDTHS, latent_channels=2, mid_blocks=1, image_size=16, resample="kb")
    decoder(tf.zeros([1, 32]))
    kb = np.linspace(0.1, 4.0, 32).astype(np.float32)
    decoder.kb_variance.assign(kb)
    z = tf.fill([4000, 32], 3.0)
    assert np.array_equal(decoder.resampled(z, training=True).numpy(), z.numpy())  # training: decoded as received
    spread = decoder.resampled(z, seed=tf.constant([1, 1])).numpy() - 3.0
    np.testing.assert_allclose(spread.var(axis=0), kb, rtol=0.1)
    log_var = tf.constant(np.log(kb)[None, :].repeat(4000, 0))
    for form in VARIANCE_FORMS:
        tx = VSCCDecoder(channels=WIDTHS, latent_channels=2, mid_blocks=1, image_size=16, resample="tx", variance_form=form)
        spread = tx.resampled(tf.concat([z, variance_as_sent(log_var, form)], -1), seed=tf.constant([2, 2])).numpy() - 3.0
        np.testing.assert_allclose(spread.var(axis=0), kb, rtol=0.1)
    noisy = tf.concat([z, tf.fill([4000, 32], -0.5)], -1)  # a received σ² pushed below 0 by the channel resamples with σ̂ = 0
    np.testing.assert_array_equal(VSCCDecoder(channels=WIDTHS, latent_channels=2, mid_blocks=1, image_size=16, resample="tx")
                                  .resampled(noisy, seed=tf.constant([3, 3])).numpy(), z.numpy())


@pytest.mark.parametrize("power", ["none", "unit"])
def test_the_encoder_sends_the_variance_in_the_form_asked_and_the_form_does_not_change_the_checkpoint(power):
    """σ² by default (the paper's §V), σ or log σ² when asked; unit power normalisation scales the
    variance with the mean. The trained weights do not depend on the form (training decodes the
    sample μ + σε), so neither does the checkpoint's configuration hash."""
    from linksim.run.checkpoints import config_hash

    images = tf.random.uniform([3, 16, 16, 3], seed=8)
    encoder = VSCCEncoder(channels=WIDTHS, latent_channels=2, mid_blocks=1, image_size=16, send="moments", power_normalization=power)
    sent = encoder(images).numpy()
    mean, log_var = encoder.moments(images)
    scale = np.mean(mean.numpy() ** 2, axis=1, keepdims=True) if power == "unit" else 1.0
    n = mean.shape[1]
    np.testing.assert_allclose(sent[:, n:], np.exp(log_var.numpy()) / scale, rtol=1e-4)
    for form, expected in (("std", np.exp(0.5 * log_var.numpy()) / np.sqrt(scale)), ("log_variance", log_var.numpy() - np.log(scale))):
        other = VSCCEncoder.from_config({**encoder.get_config(), "variance_form": form})
        other(images)
        other.set_weights(encoder.get_weights())
        np.testing.assert_allclose(other(images).numpy()[:, n:], expected, rtol=1e-4, atol=1e-5)
    hashes = set()
    for form in VARIANCE_FORMS:
        spec = tiny_vscc()
        spec["curves"][0]["stages"][0]["variance_form"] = spec["curves"][0]["stages"][2]["variance_form"] = form
        scenario = parse_scenario(spec)
        hashes.add(config_hash(scenario, scenario.curves[0]))
    assert len(hashes) == 1


def test_the_mean_metric_reads_the_sent_variances():
    """The generic 'mean' metric over the second half of what ``send: moments`` sends is the mean σ²."""
    spec = tiny_vscc()
    spec["curves"][0]["metrics"].append({"type": "mean", "sent": "sent", "start": 32, "stop": 64, "name": "sent_variance"})
    scenario = parse_scenario(spec)
    link, metrics = build_curve(scenario, scenario.curves[0])
    images = tf.random.uniform([8, 16, 16, 3], seed=9)
    taps = link(8, tf.constant(1.0), tf.constant(0.0), tf.constant([1, 2]), tf.zeros([3]), inputs=images)
    stats = next(m for m in metrics if m.name == "sent_variance").update(taps)
    _, log_var = link.stages[0].block.moments(images)
    assert float(stats["sum"]) / float(stats["count"]) == pytest.approx(float(np.mean(np.exp(log_var.numpy()))), rel=1e-5)
    bits = {"name": "bits", "snr": {"convention": "esno", "values": [0.0]},
            "curves": [{"name": "c", "source": {"type": "bits", "num_bits": 64}, "stages": [{"type": "mapper", "modulation": "qpsk"}],
                        "metrics": [{"type": "mean", "sent": "bits", "start": 32, "stop": 65}]}]}
    with pytest.raises(InputError, match=r"metric 'mean' reads elements 32 … 64 of 'bits', which has 64 per row"):
        parse_scenario(bits)
    bits["curves"][0]["metrics"][0].update(sent="symbols", stop=None)
    with pytest.raises(InputError, match=r"metric 'mean' averages real values, but 'symbols' holds complex symbols"):
        parse_scenario(bits)


def test_the_knowledge_base_is_the_mean_training_variance():
    from linksim.catalogue.image_files import batches

    scenario = parse_scenario(tiny_vscc(send="mean", resample="kb", power="unit"))
    link, _ = build_curve(scenario, scenario.curves[0])
    encoder, decoder = link.stages[0].block, link.stages[2].block
    train = scenario.data.load("train")[:600]
    link(1, tf.constant(1.0), tf.constant(0.0), tf.constant([0, 0]), tf.zeros([3]), inputs=tf.zeros([1, 16, 16, 3]))  # builds
    scenario.curves[0].stages[2].calibrate(decoder, {"sent": encoder, "reconstruction": decoder},
                                           lambda: batches(train, 256, shuffle=False))
    mean, log_var = encoder.moments(train.astype(np.float32) / 255.0)
    power = np.mean(mean.numpy() ** 2, axis=1, keepdims=True)  # the sent latent is normalised to unit power
    np.testing.assert_allclose(decoder.kb_variance.numpy(), np.mean(np.exp(log_var.numpy()) / power, axis=0), rtol=1e-4)


def test_training_ends_by_setting_the_knowledge_base(tmp_path, eager):
    spec = tiny_vscc(send="mean", resample="kb", steps=1)
    spec["data"]["patch_size"] = 32  # 4366 training patches
    scenario = parse_scenario(spec)
    link, _ = build_curve(scenario, scenario.curves[0])
    assert Trainer(scenario, 0, link, root=str(tmp_path), progress=None).run()["complete"]
    kb = link.stages[2].block.kb_variance.numpy()
    assert kb.shape == (8 * 8 * 2,) and np.all(kb > 0) and not np.allclose(kb, 1.0)  # no longer the initial ones


def test_a_training_step_lowers_the_vscc_loss():
    scenario = parse_scenario(tiny_vscc())
    link, _ = build_curve(scenario, scenario.curves[0])
    trainer = Trainer(scenario, 0, link, root="/nonexistent", progress=None)
    images = tf.constant(scenario.data.load("train")[:8], tf.float32) / 255.0
    from linksim.run.training import build_layers as _build_layers

    _build_layers(link, images.shape[1:])
    _, step, _ = trainer._optimizer_and_step(scenario.curves[0].training.stages[0], 100)
    args = (tf.constant(1.0), tf.constant(0.0), tf.constant([1, 2]), tf.zeros([3]))
    first = float(step(images, *args))
    for _ in range(15):
        last = float(step(images, *args))
    assert last < 0.8 * first


def test_resamplings_give_a_band_whose_mean_is_the_mean_over_draws():
    from linksim.run.montecarlo import run_scenario

    spec = tiny_vscc(send="mean", resample="kb", repeat=3)
    curve = spec["curves"][0]
    del curve["training"]  # untrained weights: enough for the bookkeeping of draws
    curve["weights"] = "random"
    curve["metrics"].append({"type": "psnr", "name": "psnr_rows"})  # every draw a block of its own
    spec["montecarlo"]["execution"] = "eager"
    for p in run_scenario(parse_scenario(spec)):
        mean, low, high, rows = (p.stats[m]["sum"] / p.stats[m]["count"] for m in ("psnr", "psnr_min", "psnr_max", "psnr_rows"))
        assert p.stats["psnr"]["count"] == 16 and p.stats["psnr_rows"]["count"] == 48
        assert low < mean < high and mean == pytest.approx(rows, rel=1e-9)


@pytest.mark.parametrize("mutate, message", [
    (lambda s: s["curves"][0]["stages"][0].update(d=0), r"stages\[0\]\.d: input should be greater than 0"),
    (lambda s: s["curves"][0]["stages"][0].update(prior="gaussian"), r"stages\[0\]\.prior: input should be 'channel', 'standard' or 'none'"),
    (lambda s: s["curves"][0]["stages"][0].update(send="mean"), "'resample: tx' reads what an encoder with 'send: moments' sends"),
    (lambda s: s["curves"][0]["stages"][0].update(variance_form="std"), "'variance_form: variance' must be the vscc_encoder's \\('std'\\)"),
    (lambda s: s.update(data={"patch_size": 18}), r"needs square images whose side is a multiple of 2\^2"),
    (lambda s: s["curves"][0]["metrics"][0].update(draws=4), "'draws: 4' needs a source that repeats each sample as often"),
    (lambda s: s["curves"][0]["source"].update(repeat=3), "must be multiples of the source's repeat"),
])
def test_bad_vscc_parameters_are_one_line_errors(mutate, message, write_scenario, capsys):
    spec = copy.deepcopy(tiny_vscc())
    mutate(spec)
    with pytest.raises(InputError, match=message):
        parse_scenario(spec)
    assert main(["validate", write_scenario(spec)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err
