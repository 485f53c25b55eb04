"""DiSC-Med in the engine: datasets, the discrete channel, the downstream metric, the objectives
(a training step lowers each loss), the autoencoders' ratio and power, and a whole tiny run."""
import numpy as np
import pytest
import tensorflow as tf
from scipy.stats import binom

from linksim.cli import main
from linksim.scenario import build_curve, parse_scenario
from linksim.domains.medical.segmentation import dice, hd95, iou, weighted_mean_iou
from linksim.domains.medical.datasets import NUM_CT_CLASSES as NUM_CLASSES, CTPhantom
from linksim.domains.medical.metrics import SegmentationMetric, organ_key
from linksim.models.disc_med.semantic_codes import decide_semantics, encode_semantics, label_ids, semantic_errors

SHAPE = [8, 32, 32]
TINY = [4, 16, 16]  # the smallest volume every stage accepts


def _inside(count, trials, p, level=1e-4):
    """``count`` lies inside the central two-sided binomial(trials, p) interval of probability 1 − level."""
    low, high = binom.ppf(level / 2, trials, p), binom.ppf(1 - level / 2, trials, p)
    return low <= count <= high


def test_the_phantom_dataset_is_split_by_patient_and_holds_ct_and_labels():
    data = CTPhantom(dataset="ct-phantom", shape=SHAPE, train_patients=3, test_patients=2)
    train, test = data.load("train"), data.load("test")
    assert train.shape == (3, *SHAPE, 2) and test.shape == (2, *SHAPE, 2) and data.sample_shape == (*SHAPE, 2)
    assert train.dtype == np.float32 and 0.0 <= train[..., 0].min() and train[..., 0].max() <= 1.0
    np.testing.assert_array_equal(train[..., 1], np.round(train[..., 1]))
    assert set(np.unique(train[..., 1]).astype(int)) <= set(range(NUM_CLASSES))
    assert not any(np.array_equal(a, b) for a in train for b in test)  # different patients
    np.testing.assert_array_equal(CTPhantom(dataset="ct-phantom", shape=SHAPE, train_patients=3).load("train"), train)


def test_clean_semantics_decide_to_their_labels_and_edges():
    rng = np.random.default_rng(0)
    labels, edges = rng.integers(0, NUM_CLASSES, (2, 4, 8, 8)), rng.integers(0, 2, (2, 4, 8, 8))
    semantics = encode_semantics(labels, edges, NUM_CLASSES)
    np.testing.assert_array_equal(label_ids(semantics, NUM_CLASSES), labels)
    decided = decide_semantics(semantics + 0.02, NUM_CLASSES).numpy()  # less than half a label step off
    np.testing.assert_array_equal(decided[..., :NUM_CLASSES].argmax(-1), labels)
    np.testing.assert_array_equal(decided[..., :NUM_CLASSES].sum(-1), 1.0)
    np.testing.assert_array_equal(decided[..., -1], edges)


def test_one_hot_semantics_decide_to_their_labels_and_keep_their_form_through_the_discrete_channel():
    rng = np.random.default_rng(2)
    shape, p = (50_000,), 0.1
    labels, edges = rng.integers(0, NUM_CLASSES, shape), rng.integers(0, 2, shape)
    semantics = encode_semantics(labels, edges, NUM_CLASSES, one_hot=True)
    assert semantics.shape == (*shape, NUM_CLASSES + 1)
    np.testing.assert_array_equal(label_ids(semantics, NUM_CLASSES), labels)
    np.testing.assert_array_equal(decide_semantics(semantics, NUM_CLASSES), semantics)  # already decided
    received = semantic_errors(semantics, tf.constant(p), NUM_CLASSES, tf.constant([5, 6]))
    assert received.shape == semantics.shape
    np.testing.assert_array_equal(tf.reduce_sum(received[..., :NUM_CLASSES], -1), 1.0)  # still one class per voxel
    assert _inside(int(np.sum(label_ids(received, NUM_CLASSES).numpy() != labels)), labels.size, p)
    assert _inside(int(np.sum(received[..., -1].numpy() != edges)), edges.size, p)


def test_interpolated_label_ids_invent_classes_at_a_border_and_interpolated_one_hot_channels_do_not():
    """Label 2 beside label 6, kept every 4th voxel along W: the label form interpolates through 3, 4
    and 5 (organs that are not there); the one-hot form gives class weights that sum to one and
    decide to 2 or 6 only."""
    from linksim.models.disc_med.resampling import strided_compress, trilinear_restore

    labels = np.where(np.arange(16) < 8, 2, 6)[None, None, None, :].repeat(4, 2).repeat(2, 1)  # [1, 2, 4, 16]
    edges = np.zeros_like(labels)
    for one_hot, expected in ((False, {2, 3, 4, 5, 6}), (True, {2, 6})):
        restored = trilinear_restore(strided_compress(encode_semantics(labels, edges, NUM_CLASSES, one_hot)), (2, 4, 16))
        assert set(np.unique(label_ids(restored, NUM_CLASSES))) == expected
        if one_hot:
            np.testing.assert_allclose(tf.reduce_sum(restored[..., :NUM_CLASSES], -1), 1.0, atol=1e-6)


def test_the_transmitter_sends_its_segmenters_labels_not_the_ground_truth():
    curve = {"name": "tx", "source": {"type": "images"}, "stages": TRANSMITTER + [{"type": "strided_compress"}],
             "metrics": [{"type": "power", "sent": "latent"}], "weights": "random"}
    scenario = _tiny([curve])
    link, _ = build_curve(scenario, scenario.curves[0])
    taps = link(2, tf.constant(1.0), tf.constant(0.0), tf.constant([1, 2]), tf.constant(link.point_values(0.0)), chunk=0)
    segmented = taps["tx_segmentation"].numpy()
    np.testing.assert_array_equal(segmented[..., 0], taps["images"].numpy()[..., 0])  # the CT passes on
    np.testing.assert_array_equal(label_ids(taps["semantics"], NUM_CLASSES), segmented[..., 1])
    assert not np.array_equal(segmented[..., 1], taps["images"].numpy()[..., 1])  # an untrained segmenter is not the truth


@pytest.mark.parametrize("stages, expected", [
    ([{"type": "semantic_extraction"}], "'labels: segmenter' (the default) reads the labels of a ct_segmenter placed just before it"),
    ([{"type": "ct_segmenter", "keep_ct": True, "tap": "tx"}, {"type": "semantic_extraction", "labels": "ground_truth"}],
     "'labels: ground_truth' reads the dataset's labels, but a ct_segmenter comes just before it"),
])
def test_where_the_transmitters_labels_come_from_is_checked(stages, expected, write_scenario, capsys):
    scenario = {"name": "bad", "data": {"dataset": "ct-phantom", "shape": SHAPE}, "snr": {"convention": "snr", "values": [0.0]},
                "curves": [{"name": "c", "source": {"type": "images"}, "stages": stages + [{"type": "strided_compress"}],
                            "metrics": [{"type": "power", "sent": "latent"}]}]}
    if any(s["type"] == "ct_segmenter" for s in stages):
        scenario["curves"][0]["weights"] = "random"  # run the learned segmenter untrained ('weights: random' needs one)
    assert main(["validate", write_scenario(scenario, "bad.yaml")]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and expected in err, err


def test_the_symmetric_transition_matrix_and_the_edge_bsc_make_errors_at_p_spread_evenly():
    rng = np.random.default_rng(1)
    shape, p = (200_000,), 0.08
    labels, edges = rng.integers(0, NUM_CLASSES, shape), rng.integers(0, 2, shape)
    received = semantic_errors(encode_semantics(labels, edges, NUM_CLASSES), tf.constant(p), NUM_CLASSES, tf.constant([3, 4]))
    got = label_ids(received, NUM_CLASSES).numpy()
    wrong = got != labels
    assert _inside(wrong.sum(), wrong.size, p)
    assert _inside(int(np.sum((received[..., 1].numpy() > 0.5) != edges)), edges.size, p)
    # every wrong label equally likely: each (sent k → received j ≠ k) count is binomial(n_k, p / 15)
    for k in (0, 7, 15):
        sent = labels == k
        for j in (0, 3, 15):
            if j != k:
                assert _inside(int(np.sum(got[sent] == j)), int(sent.sum()), p / (NUM_CLASSES - 1))


def test_a_given_transition_matrix_is_followed_row_by_row():
    table = np.eye(NUM_CLASSES)
    table[2] = 0.0
    table[2, 5], table[2, 2] = 0.3, 0.7  # label 2 becomes 5 with probability 0.3, nothing else changes
    labels = np.full((50_000,), 2)
    labels[:10_000] = 9
    received = semantic_errors(encode_semantics(labels, np.zeros_like(labels), NUM_CLASSES), tf.constant(0.0), NUM_CLASSES,
                               tf.constant([5, 6]), table.astype(np.float32))
    got = label_ids(received, NUM_CLASSES).numpy()
    np.testing.assert_array_equal(got[:10_000], 9)
    assert set(np.unique(got[10_000:])) == {2, 5} and _inside(int(np.sum(got[10_000:] == 5)), 40_000, 0.3)
    np.testing.assert_array_equal(received[..., 1], 0.0)  # p = 0: no edge flips


def _label_volumes(rng, batch=3):
    """Reference label maps with three organs (spleen a box, liver a box, left adrenal in one volume
    only) and predictions that shift, shrink or drop them."""
    reference = np.zeros((batch, *SHAPE), np.int64)
    reference[:, 1:6, 4:14, 4:12] = 6
    reference[:, 2:5, 18:26, 20:28] = 1
    reference[0, 3:5, 28:31, 2:5] = 12
    prediction = np.roll(reference, 1, axis=2)
    prediction[1][prediction[1] == 1] = 0  # volume 1: the spleen is missed (HD95 fails)
    prediction[2, 0, 0, :6] = 6
    return prediction, reference


def test_the_segmentation_metric_in_the_graph_equals_the_numpy_scores():
    prediction, reference = _label_volumes(np.random.default_rng(2))
    metric = SegmentationMetric(type="segmentation", organs=[1, 6, 12])
    metrics = {m.name: m for m in metric.build()}
    assert list(metrics) == metric.metric_names()
    samples = np.stack([np.zeros(reference.shape), reference], -1).astype(np.float32)
    taps = {"images": tf.constant(samples), "segmentation": tf.constant(prediction, tf.float32),
            "valid": tf.constant([True, True, False])}  # the third volume does not count
    stats = tf.function(lambda: {n: m.update(taps) for n, m in metrics.items()})()

    def mean(name):
        s = stats[name]
        return float(s["sum"] / s["count"]), float(s["count"])

    for organ in (1, 6):
        key = organ_key(organ)
        assert mean(f"dice_{key}")[0] == pytest.approx(np.mean([dice(prediction[b], reference[b], organ) for b in (0, 1)]))
        assert mean(f"iou_{key}")[0] == pytest.approx(np.mean([iou(prediction[b], reference[b], organ) for b in (0, 1)]))
    assert mean("hd95_spleen") == (pytest.approx(hd95(prediction[0], reference[0], 1)), 1.0)  # volume 1 failed: not a number
    assert mean("hd95_fail_spleen") == (0.5, 2.0) and mean("hd95_fail_liver") == (0.0, 2.0)
    assert mean("dice_left_adrenal")[1] == 1.0  # only volume 0 has it
    expected = np.mean([np.mean([dice(prediction[b], reference[b], o) for o in (1, 6, 12) if np.any(reference[b] == o)]) for b in (0, 1)])
    assert mean("dice")[0] == pytest.approx(expected)
    assert mean("miou_w")[0] == pytest.approx(np.mean([weighted_mean_iou(prediction[b], reference[b], [1, 6, 12]) for b in (0, 1)]))


def _tiny(curves, snr=(0.0, 20.0), convention="snr"):
    return parse_scenario({
        "name": "disc_med_tiny", "seed": 4,
        "data": {"dataset": "ct-phantom", "shape": TINY, "train_patients": 2, "test_patients": 2},
        "snr": {"convention": convention, "values": list(snr)},
        "montecarlo": {"batch_size": 2, "max_samples": 2, "target_errors": None, "stop_after_error_free": False, "execution": "graph"},
        "curves": curves,
    })


TRANSMITTER = [{"type": "ct_segmenter", "filters": 4, "levels": 2, "keep_ct": True, "tap": "tx_segmentation"}, {"type": "semantic_extraction"}]
SEMANTIC = TRANSMITTER + [{"type": "strided_compress"}, {"type": "real_awgn"}, {"type": "trilinear_restore"},
            {"type": "semantic_denoiser", "filters": 4}, {"type": "ddpm_reconstruction", "filters": 4, "levels": 2, "sampling_steps": 2},
            {"type": "ct_segmenter", "filters": 4, "levels": 2}]
DCAE = [{"type": "ct_encoder", "filters": 4, "power": 0.5}, {"type": "real_awgn"}, {"type": "ct_decoder", "filters": 4, "tap": "decoded"}]


def _stage(name, train, loss, **extra):
    return {"name": name, "train": train, "loss": loss, "epochs": 1, "batch_size": 2, "learning_rate": 3e-3, **extra}


@pytest.mark.parametrize("stages, stage", [
    (SEMANTIC, _stage("seg", ["segmentation"], "segmenter_ce")),
    (SEMANTIC, _stage("ddpm", ["reconstruction"], "ddpm")),
    (SEMANTIC, _stage("den", ["denoised"], "semantic_ce", snr={"low": 5.0, "high": 5.0})),
    (DCAE, _stage("ae", ["latent", "decoded"], "ct_mse", channel="phy", snr={"low": 5.0, "high": 5.0})),
    ([{**DCAE[0], "codebook": 8}, DCAE[1], {**DCAE[2], "codebook": 8}], _stage("vq", ["latent", "decoded"], "ct_mse", channel="phy", snr={"low": 5.0, "high": 5.0})),
], ids=["segmenter_ce", "ddpm", "semantic_ce", "ct_mse-dcae", "ct_mse-vqvae"])
def test_a_training_step_lowers_each_objective_on_a_fixed_batch(stages, stage):
    from linksim.run.training import Trainer, build_layers as _build_layers

    scenario = _tiny([{"name": "c", "signal_power": 0.02, "source": {"type": "images"}, "stages": stages,
                       "metrics": [{"type": "power", "sent": "latent"}], "training": {"stages": [stage]}}])
    link, _ = build_curve(scenario, scenario.curves[0])
    volumes = tf.constant(scenario.data.load("train"))
    _build_layers(link, volumes.shape[1:])
    trainer = Trainer(scenario, 0, link, root="/nonexistent", progress=None)
    loss_fn_stage = scenario.curves[0].training.stages[0]
    _, step, _ = trainer._optimizer_and_step(loss_fn_stage, 100)
    args = (tf.constant(link.noise_variance(5.0), tf.float32), tf.constant(5.0), tf.constant([1, 2]),
            tf.constant(trainer.point_values(loss_fn_stage, 5.0), tf.float32))
    losses = [float(step(volumes, *args)) for _ in range(8)]  # the same batch, noise and timesteps every step
    assert np.mean(losses[-3:]) < losses[0], losses


def test_the_baselines_send_a_sixteenth_of_the_voxels_at_the_stated_power():
    from linksim.models.disc_med.autoencoders import CTEncoder

    volumes = tf.random.uniform((2, *TINY, 2), seed=3)
    for codebook in (None, 8):
        latent = CTEncoder(filters=4, codebook=codebook, power=0.3)(volumes)
        assert int(np.prod(latent.shape[1:])) * 16 == int(np.prod(TINY))
        np.testing.assert_allclose(tf.reduce_mean(tf.square(latent), axis=[1, 2, 3, 4]), 0.3, rtol=1e-5)
    encoder = CTEncoder(filters=4, codebook=8)
    encoder(volumes)
    raw = tf.random.normal((2, 4, 4, 4), seed=4)
    quantized = encoder.nearest_code(raw).numpy().reshape(-1, 4)
    codebook = encoder.codebook.numpy()
    nearest = codebook[np.argmin(((raw.numpy().reshape(-1, 1, 4) - codebook[None]) ** 2).sum(-1), axis=1)]
    np.testing.assert_allclose(quantized, nearest, atol=1e-6)


def test_the_semantic_link_compresses_sixteen_fold_and_its_ber_metric_counts_label_and_edge_errors():
    curve = {"name": "bits", "source": {"type": "images"},
             "stages": [{"type": "semantic_extraction", "labels": "ground_truth"}, {"type": "strided_compress"}, {"type": "semantic_errors", "modulation": "bpsk"},
                        {"type": "trilinear_restore"}, {"type": "semantic_decision"}],
             "metrics": [{"type": "semantic_ber"}]}
    scenario = _tiny([curve], snr=(0.0,))
    link, metrics = build_curve(scenario, scenario.curves[0])
    p = link.point_values(0.0)[2]
    assert p == pytest.approx(0.158655, abs=1e-6)  # real BPSK at 0 dB: Q(1)
    taps = link(2, tf.constant(link.noise_variance(0.0)), tf.constant(0.0), tf.constant([7, 8]), tf.constant(link.point_values(0.0)), chunk=0)
    assert int(np.prod(taps["images"].shape[:-1])) == 16 * int(np.prod(taps["latent"].shape))  # 2 values per 32 CT voxels
    assert taps["denoised"].shape[-1] == NUM_CLASSES + 1
    stats = metrics[0].update(taps)
    sent, received = taps["latent"].numpy(), taps["received"].numpy()
    errors = np.sum(np.rint(sent[..., 0] * 15) != np.rint(received[..., 0] * 15)) + np.sum(sent[..., 1] != received[..., 1])
    assert int(stats["errors"]) == errors and int(stats["trials"]) == sent.size
    assert _inside(errors, sent.size, p)


def test_a_tiny_disc_med_scenario_trains_runs_and_draws_its_figures(write_scenario, capsys, tmp_path):
    semantic = [dict(s) for s in SEMANTIC]
    scenario = {
        "name": "disc_med_cli", "seed": 4,
        "data": {"dataset": "ct-phantom", "shape": TINY, "train_patients": 2, "test_patients": 2},
        "snr": {"convention": "snr", "values": [0.0, 60.0]},
        "montecarlo": {"batch_size": 2, "max_samples": 2, "target_errors": None, "stop_after_error_free": False, "execution": "xla"},
        "figures": {"metrics": ["dice", "psnr", "semantic_ber"], "versus": "semantic_ber",
                    "slices": {"curves": ["disc-med", "no-denoiser"], "snr": [60.0], "taps": ["images", "restored", "reconstruction", "segmentation"],
                               "labels": ["segmentation"]}},
        "curves": [
            {"name": "disc-med", "signal_power": "measured", "source": {"type": "images"}, "stages": semantic,
             "metrics": [{"type": "segmentation", "organs": [6, 7]}, {"type": "psnr", "sent_channel": 0, "received": "reconstruction"},
                         {"type": "semantic_ber", "received": "received"}],
             "training": {"stages": [_stage("tx-seg", ["tx_segmentation"], "segmenter_ce"), _stage("seg", ["segmentation"], "segmenter_ce"),
                                     _stage("ddpm", ["reconstruction"], "ddpm"),
                                     _stage("den", ["denoised"], "semantic_ce", snr={"low": 0.0, "high": 60.0})]}},
            {"name": "no-denoiser", "signal_power": "measured", "source": {"type": "images"},
             "stages": semantic[:5] + [{"type": "semantic_decision"}] + semantic[6:],
             "metrics": [{"type": "segmentation", "organs": [6, 7]}, {"type": "psnr", "sent_channel": 0, "received": "reconstruction"},
                         {"type": "semantic_ber", "received": "received"}],
             "training": {"init_from": "disc-med"}},
        ],
    }
    out = tmp_path / "dm.h5"
    assert main(["run", write_scenario(scenario, "dm.yaml"), "--out", str(out), "--checkpoints", str(tmp_path / "ck")]) == 0
    printed = capsys.readouterr().out
    assert "dice_liver" not in printed and "| " in printed  # the table shows figures.metrics only
    assert "disc-med: signal power measured again before stage 'seg'" in printed  # the trained transmitter's power
    for suffix in (".csv", ".png", "_versus_semantic_ber.png", "_slices.png"):
        assert (tmp_path / f"dm{suffix}").stat().st_size > 0
    rows = [line.split(",") for line in (tmp_path / "dm.csv").read_text().splitlines()[1:]]
    ber = {(r[0], float(r[1])): float(r[4]) for r in rows if r[3] == "semantic_ber"}
    assert ber[("disc-med", 60.0)] == 0.0 < ber[("disc-med", 0.0)]  # hard decisions of the received latent
    assert {r[3] for r in rows} >= {"dice", "miou_w", "dice_liver", "hd95_fail_stomach", "psnr"}


@pytest.mark.parametrize("data, expected", [
    ({"dataset": "amos", "path": "/nonexistent/amos"}, "data: no folder 'imagesTr' in '/nonexistent/amos'"),
    ({"dataset": "dicom", "path": "/nonexistent/dicom"}, "data: no such folder '/nonexistent/dicom'"),
    ({"dataset": "ct-phantom", "shape": [8, 30, 32]}, "not a multiple of the strides"),
    ({"dataset": "bundled-photos"}, "needs CT volume samples"),
])
def test_bad_medical_data_gives_one_line_and_exit_2(data, expected, write_scenario, capsys):
    scenario = {"name": "bad", "data": data, "snr": {"convention": "snr", "values": [0.0]},
                "curves": [{"name": "c", "source": {"type": "images"}, "stages": [{"type": "semantic_extraction", "labels": "ground_truth"}, {"type": "strided_compress"}],
                            "metrics": [{"type": "power", "sent": "latent"}]}]}
    assert main(["validate", write_scenario(scenario, "bad.yaml")]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and expected in err, err


def test_a_measured_power_refuses_a_transmitter_trained_through_the_channel(write_scenario, capsys):
    """The transmitter's segmenter may be learned under 'signal_power: measured' when it trains on its own
    objective (the power is measured again before each training stage), not when a stage trains it
    with the stages after the channel."""
    stages = [{"type": "ct_segmenter", "filters": 4, "levels": 2, "keep_ct": True, "tap": "tx_segmentation"},
              {"type": "ct_encoder", "filters": 4}, {"type": "real_awgn"}, {"type": "ct_decoder", "filters": 4, "tap": "decoded"}]
    scenario = {"name": "bad", "data": {"dataset": "ct-phantom", "shape": SHAPE}, "snr": {"convention": "snr", "values": [0.0]},
                "curves": [{"name": "c", "signal_power": "measured", "source": {"type": "images"}, "stages": stages,
                            "metrics": [{"type": "power", "sent": "latent"}],
                            "training": {"stages": [_stage("seg", ["tx_segmentation"], "segmenter_ce"),
                                                    _stage("ae", ["latent", "decoded"], "ct_mse", channel="phy", snr={"low": 5.0, "high": 5.0})]}}]}
    assert main(["validate", write_scenario(scenario, "bad.yaml")]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "training stage 'ae' trains 'latent' with stages after it or through the channel" in err, err


def test_a_transition_matrix_of_the_wrong_size_or_not_stochastic_is_refused(write_scenario, capsys):
    for table, expected in (([[1.0]], "must be 16×16"), ([[0.5] * 16] * 16, "'transition': row 0 of the transition matrix sums to 8")):
        scenario = {"name": "bad", "data": {"dataset": "ct-phantom", "shape": SHAPE}, "snr": {"convention": "snr", "values": [0.0]},
                    "curves": [{"name": "c", "source": {"type": "images"},
                                "stages": [{"type": "semantic_extraction", "labels": "ground_truth"}, {"type": "semantic_errors", "error_probability": 0.1, "transition": table}],
                                "metrics": [{"type": "semantic_ber", "sent": "semantics"}]}]}
        assert main(["validate", write_scenario(scenario, "bad.yaml")]) == 2
        err = capsys.readouterr().err.strip()
        assert len(err.splitlines()) == 1 and expected in err, err


@pytest.mark.parametrize("name", ["denoiser", "ddpm", "segmenter", "encoder", "decoder"])
def test_the_layers_round_trip_their_config_in_safe_mode(name):
    import keras

    from linksim.models.disc_med.autoencoders import CTDecoder, CTEncoder
    from linksim.models.disc_med.denoiser import SemanticDenoiser
    from linksim.models.disc_med.reconstruction import DDPMReconstructor
    from linksim.models.disc_med.segmenter import SliceSegmenter

    layer = {"denoiser": lambda: SemanticDenoiser(NUM_CLASSES, filters=4), "segmenter": lambda: SliceSegmenter(NUM_CLASSES, filters=4),
             "ddpm": lambda: DDPMReconstructor(NUM_CLASSES, filters=4, sampler="ddpm"),
             "encoder": lambda: CTEncoder(filters=4, codebook=8, power=0.5), "decoder": lambda: CTDecoder(filters=4, vq=True)}[name]()
    clone = type(layer).from_config(layer.get_config())
    assert clone.get_config() == layer.get_config()
    restored = keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(layer), safe_mode=True)
    assert type(restored) is type(layer) and restored.get_config() == layer.get_config()


def test_the_soft_dice_loss_is_zero_for_a_sure_right_answer_and_one_minus_dice_otherwise():
    from linksim.models.disc_med.semantic_codes import soft_dice_loss

    labels = tf.constant([[0, 1, 1, 2], [0, 0, 2, 2]])
    sure = tf.one_hot(labels, 4) * 60.0  # softmax ≈ one-hot
    assert float(soft_dice_loss(sure, labels, 4, smooth=0.0)) == pytest.approx(0.0, abs=1e-6)
    flat = tf.zeros([2, 4, 4])  # every class 1/4 everywhere: class 1 has 2 voxels, class 2 has 3
    expected = 1 - np.mean([2 * 0.25 * 2 / (8 * 0.25 + 2), 2 * 0.25 * 3 / (8 * 0.25 + 3)])  # class 3 is absent: not counted
    assert float(soft_dice_loss(flat, labels, 4, smooth=0.0)) == pytest.approx(expected, rel=1e-6)
