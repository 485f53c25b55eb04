"""Training: a step lowers the loss, checkpoints are reused and invalidated, resume is exact."""
import copy
import os

import numpy as np
import pytest
import tensorflow as tf

from tests.conftest import trained_runner
from linksim.engine.errors import InputError
from linksim.run.montecarlo import ChunkRunner
from linksim.scenario import parse_scenario
from linksim.run.checkpoints import checkpoint_path, config_hash
from linksim.run.training import CurveWeights, Trainer


def tiny_learned(channel="phy", steps=6, rounds=1, **stage_overrides):
    stage = {"name": "joint", "train": ["latent", "reconstruction"], "steps": steps, "batch_size": 16,
             "learning_rate": 3e-3, "snr": {"low": 5.0, "high": 15.0}, "channel": channel, **stage_overrides}
    return {
        "name": "tiny_learned", "seed": 3, "data": {"patch_size": 16},
        "snr": {"convention": "esno", "values": [10.0]},
        "montecarlo": {"batch_size": 32, "max_samples": 64, "target_errors": None, "execution": "graph"},
        "curves": [{
            "name": "codec", "source": {"type": "images"},
            "stages": [{"type": "conv_encoder", "latent_channels": 2, "filters": 8},
                       {"type": "quantizer", "num_bits": 3}, {"type": "ad", "num_bits": 3},
                       {"type": "mapper", "modulation": "qpsk"}, {"type": "awgn"}, {"type": "slicer", "modulation": "qpsk"},
                       {"type": "da", "num_bits": 3}, {"type": "dequantizer", "num_bits": 3},
                       {"type": "conv_decoder", "latent_channels": 2, "filters": 8}],
            "metrics": [{"type": "psnr"}],
            "training": {"rounds": rounds, "stages": [stage]},
        }],
    }


def _weights(link):
    return [w for s in link.stages if s.learned for w in s.block.get_weights()]


def _untrained_link(scenario):
    from linksim.scenario import build_curve

    return build_curve(scenario, scenario.curves[0])[0]


def assert_training_steps_lower_the_loss_and_move_the_encoder(spec, snr_db=10.0, steps=5):
    """Build ``spec``'s first curve untrained, take ``steps`` training steps on 16 training images at
    ``snr_db`` and check that the reconstruction loss fell and the encoder (stage 0) changed."""
    from linksim.run.training import build_layers

    scenario = parse_scenario(spec)
    link = _untrained_link(scenario)
    trainer = Trainer(scenario, 0, link, root="/nonexistent", progress=None)
    images = tf.constant(scenario.data.load("train")[:16], tf.float32) / 255.0
    build_layers(link, images.shape[1:])
    _, step, _ = trainer._optimizer_and_step(scenario.curves[0].training.stages[0], 100)
    args = (tf.constant(link.noise_variance(snr_db), tf.float32), tf.constant(snr_db), tf.constant([1, 2]),
            tf.zeros([len(link.stages)]))
    encoder_before = copy.deepcopy(link.stages[0].block.get_weights())

    def loss():
        return float(tf.reduce_mean(tf.square(images - link(16, *args, inputs=images)["output"])))

    before = loss()
    for _ in range(steps):
        step(images, *args)
    assert loss() < before
    assert any(not np.array_equal(a, b) for a, b in zip(encoder_before, link.stages[0].block.get_weights()))


@pytest.mark.parametrize("channel", ["phy", "surrogate"])
def test_a_training_step_lowers_the_loss_and_updates_the_encoder_through_the_digital_span(channel):
    assert_training_steps_lower_the_loss_and_move_the_encoder(tiny_learned(channel))


def test_checkpoint_is_reused_and_a_changed_configuration_retrains(tmp_path):
    scenario = parse_scenario(tiny_learned())
    runner = trained_runner(scenario, str(tmp_path), [0])
    trained = _weights(runner.curve(0).link)
    state = Trainer(scenario, 0, _untrained_link(scenario), str(tmp_path), progress=None).run()
    assert state["complete"] and len(state["losses"]) == 1
    loader = ChunkRunner(scenario, CurveWeights(scenario, str(tmp_path)))  # what a Ray worker does
    for a, b in zip(trained, _weights(loader.curve(0).link)):
        np.testing.assert_array_equal(a, b)
    assert loader.run(0, 0, 0, 10.0)[0] == runner.run(0, 0, 0, 10.0)[0]
    changed = parse_scenario(tiny_learned(learning_rate=1e-3))
    assert config_hash(changed, changed.curves[0]) != config_hash(scenario, scenario.curves[0])
    with pytest.raises(InputError, match="no finished training checkpoint"):
        ChunkRunner(changed, CurveWeights(changed, str(tmp_path))).curve(0)


@pytest.mark.parametrize("ema", [None, 0.8])
def test_interrupted_training_resumes_to_the_same_weights(tmp_path, ema):
    """Two stages × 2 rounds; stop after 2 of the 4 epochs, resume in a fresh process state."""
    spec = tiny_learned(steps=4, rounds=2, **({} if ema is None else {"ema": ema}))
    spec["curves"][0]["training"]["stages"].append(
        {"name": "decoder_only", "train": ["reconstruction"], "steps": 3, "batch_size": 16, "learning_rate": 1e-3,
         "schedule": "constant", "snr": {"low": 10.0, "high": 10.0}, "loss": "l1"})
    scenario = parse_scenario(spec)
    straight = _untrained_link(scenario)
    uninterrupted = Trainer(scenario, 0, straight, str(tmp_path / "a"), progress=None).run()
    first = _untrained_link(scenario)
    partial = Trainer(scenario, 0, first, str(tmp_path / "b"), progress=None).run(max_epochs=2)
    assert not partial["complete"] and partial["item"] == 2
    resumed = _untrained_link(scenario)
    state = Trainer(scenario, 0, resumed, str(tmp_path / "b"), progress=None).run()
    assert state["complete"] and len(state["losses"]) == 4
    assert [w[:5] for w in state["windows"]] == [w[:5] for w in uninterrupted["windows"]]
    np.testing.assert_allclose([w[5] for w in state["windows"]], [w[5] for w in uninterrupted["windows"]], rtol=1e-4)
    for a, b in zip(_weights(straight), _weights(resumed)):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    assert checkpoint_path(scenario, scenario.curves[0], "x") == os.path.join("x", config_hash(scenario, scenario.curves[0]))


def test_the_loss_windows_cover_each_epoch_once_and_average_to_its_loss(tmp_path):
    from linksim.output.training_log import TrainingLog

    scenario = parse_scenario(tiny_learned(steps=23))
    state = Trainer(scenario, 0, _untrained_link(scenario), str(tmp_path), progress=TrainingLog(None)).run()
    windows = state["windows"]
    assert [(w[3], w[4]) for w in windows] == [(first, min(first + 2, 22)) for first in range(0, 23, 3)]  # ⌈23/10⌉ = 3 steps each
    sizes = np.array([w[4] - w[3] + 1 for w in windows])
    assert np.sum(sizes * [w[5] for w in windows]) / 23 == pytest.approx(state["losses"][0][3], rel=1e-6)
    assert os.path.isfile(os.path.join(checkpoint_path(scenario, scenario.curves[0], str(tmp_path)), "current", "loss.png"))


def test_a_stage_with_ema_ends_on_the_moving_average_of_its_weights():
    from linksim.run.training import build_layers as _build_layers

    scenario = parse_scenario(tiny_learned(steps=3, ema=0.5))
    link = _untrained_link(scenario)
    images = tf.constant(scenario.data.load("train")[:16], tf.float32) / 255.0
    _build_layers(link, images.shape[1:])
    trainer = Trainer(scenario, 0, link, root="/nonexistent", progress=None)
    optimizer, step, variables = trainer._optimizer_and_step(scenario.curves[0].training.stages[0], 3)
    args = (tf.constant(link.noise_variance(10.0), tf.float32), tf.constant(10.0), tf.constant([1, 2]), tf.zeros([9]))
    average = None
    for _ in range(3):
        step(images, *args)
        now = [v.numpy().copy() for v in variables]
        average = now if average is None else [0.5 * a + 0.5 * w for a, w in zip(average, now)]  # the first step starts it
    assert not all(np.allclose(a, v.numpy()) for a, v in zip(average, variables))
    optimizer.finalize_variable_values(variables)
    for a, v in zip(average, variables):
        np.testing.assert_allclose(v.numpy(), a, rtol=1e-5, atol=1e-7)


def test_a_training_run_with_ema_ends_elsewhere_than_the_same_run_without(tmp_path):
    """Tracking the average leaves the trajectory alone, so only the final swap makes the two differ."""
    finals = []
    for ema in (None, 0.5):
        scenario = parse_scenario(tiny_learned(steps=3, **({} if ema is None else {"ema": ema})))
        link = _untrained_link(scenario)
        Trainer(scenario, 0, link, str(tmp_path / str(ema)), progress=None).run()
        finals.append(_weights(link))
    assert not all(np.allclose(a, b) for a, b in zip(*finals))


def test_training_scenario_errors(write_scenario, capsys):
    from linksim.cli import main

    bad = tiny_learned()
    bad["curves"][0]["training"]["stages"][0]["train"] = ["latent", "mapper"]
    assert main(["validate", write_scenario(bad)]) == 2
    assert "trains mapper, not learned stages of this curve (learned: latent, reconstruction)" in capsys.readouterr().err
    both = tiny_learned(epochs=2)
    assert main(["validate", write_scenario(both, "b.yaml")]) == 2
    assert "exactly one of 'epochs' or 'steps'" in capsys.readouterr().err


def test_cli_train_then_run_reuses_the_checkpoint_and_writes_figures(write_scenario, tmp_path, capsys):
    from linksim.cli import main

    spec = tiny_learned(optimizer="sgd", learning_rate=0.05)
    path, checkpoints = write_scenario(spec), str(tmp_path / "ck")
    assert main(["train", path, "--checkpoints", checkpoints]) == 0
    printed = capsys.readouterr().out
    assert "# train codec: joint epoch 1/1  loss" in printed and "images/s" in printed
    out = tmp_path / "r.h5"
    assert main(["run", path, "--out", str(out), "--checkpoints", checkpoints]) == 0
    printed = capsys.readouterr().out
    assert "trained weights reused" in printed and "r_reconstructions.png" in printed
    for name in ("r.png", "r_reconstructions.png", "r_constellation.png"):
        assert (tmp_path / name).stat().st_size > 5_000
    import glob

    assert glob.glob(f"{checkpoints}/[0-9a-f]*/current/loss.png")
    assert main(["train", write_scenario({**spec, "curves": [{**spec["curves"][0], "training": None}]}, "none.yaml")]) == 2


def _codec_and_tuned():
    """tiny_learned (2 steps) and its codec curve, with a curve 'tuned' fine-tuning from it (init_from)."""
    spec = tiny_learned(steps=2)
    codec = spec["curves"][0]
    return spec, codec, {**codec, "name": "tuned", "training": {"init_from": "codec", "stages": [{**codec["training"]["stages"][0], "name": "tune"}]}}


def test_run_of_one_curve_trains_the_curve_it_starts_from_and_sweeps_only_the_chosen_one(write_scenario, tmp_path, capsys):
    from linksim.cli import main
    from linksim.output.results import Results

    spec, codec, tuned = _codec_and_tuned()
    path, checkpoints, out = write_scenario({**spec, "curves": [codec, tuned]}), str(tmp_path / "ck"), tmp_path / "r.h5"
    assert main(["run", path, "--out", str(out), "--checkpoints", checkpoints, "--curves", "tuned"]) == 0
    printed = capsys.readouterr().out
    assert "# train codec: joint epoch 1/1" in printed and "# train tuned: tune epoch 1/1" in printed
    assert printed.index("# train codec:") < printed.index("# train tuned:")
    assert [c.name for c in Results.load(str(out)).curves] == ["tuned"]


def test_train_of_chosen_curves_trains_them_and_their_sources_only(write_scenario, tmp_path, capsys):
    from linksim.cli import main

    spec, codec, tuned = _codec_and_tuned()
    other = {**codec, "name": "other"}
    path, checkpoints = write_scenario({**spec, "curves": [codec, tuned, other]}), str(tmp_path / "ck")
    assert main(["train", path, "--checkpoints", checkpoints, "--curves", "tuned"]) == 0
    printed = capsys.readouterr().out
    assert "# train codec:" in printed and "# train tuned:" in printed and "# train other:" not in printed
    assert main(["train", path, "--checkpoints", checkpoints, "--curves", "nothing-*"]) == 2
    assert "--curves 'nothing-*' matches no curve" in capsys.readouterr().err


def test_untrainable_schedule_is_a_one_line_error_before_any_file_is_written(write_scenario, tmp_path, capsys):
    from linksim.cli import main

    out = tmp_path / "r.h5"
    path = write_scenario(tiny_learned(batch_size=65_536))
    assert main(["run", path, "--out", str(out), "--checkpoints", str(tmp_path / "ck")]) == 2
    err = capsys.readouterr().err
    assert "batch_size 65536 exceeds the" in err and err.count("\n") == 1
    assert not out.exists() and not (tmp_path / "ck").exists()


@pytest.fixture(scope="module")
def photo_folder(tmp_path_factory):
    from PIL import Image
    from skimage import data

    folder = tmp_path_factory.mktemp("photo")
    Image.fromarray(data.astronaut()[:128, :128]).save(folder / "astronaut.png")
    return str(folder)


def _decoder_only(folder, epochs, cache_head=None, **overrides):
    """tiny_learned with only the decoder trained, by epochs of 4 steps (64 training crops of one photo)."""
    spec = tiny_learned(train=["reconstruction"], **overrides)
    stage = spec["curves"][0]["training"]["stages"][0]
    del stage["steps"]
    stage.update(epochs=epochs, **({} if cache_head is None else {"cache_head": cache_head}))
    spec["data"] = {"dataset": "image-folder", "path": folder, "train_crops": 64, "patch_size": 16}
    return parse_scenario(spec)


def _count_head_calls(monkeypatch):
    calls = []
    original = Trainer._head_function

    def counting(self, stage):
        head = original(self, stage)
        return lambda *args: calls.append(1) or head(*args)

    monkeypatch.setattr(Trainer, "_head_function", counting)
    return calls


def test_cache_head_epochs_before_the_replay_equal_those_of_an_uncached_stage(tmp_path, monkeypatch, photo_folder):
    calls = _count_head_calls(monkeypatch)
    links = []
    for cache in (None, 2):
        scenario = _decoder_only(photo_folder, 2, cache)
        links.append(_untrained_link(scenario))
        Trainer(scenario, 0, links[-1], str(tmp_path / str(cache)), progress=None).run()
    assert len(calls) == 2 * 4  # the head ran once per step of the two drawn epochs
    for a, b in zip(*map(_weights, links)):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    uncached = _decoder_only(photo_folder, 2)
    assert config_hash(scenario, scenario.curves[0]) != config_hash(uncached, uncached.curves[0])


def test_cache_head_replays_the_stored_epochs_batches_snrs_and_noise(tmp_path, monkeypatch, photo_folder):
    """With a learning rate too small to move the weights, every step of a replayed epoch repeats the
    loss of the same step of its drawn epoch, while a fresh epoch (no cache) draws other batches."""
    calls = _count_head_calls(monkeypatch)
    still = {"optimizer": "sgd", "learning_rate": 1e-12, "schedule": "constant"}
    cached, uncached = _decoder_only(photo_folder, 3, 1, **still), _decoder_only(photo_folder, 3, **still)

    def step_losses(scenario, root):  # 4 steps an epoch: one loss window per step
        state = Trainer(scenario, 0, _untrained_link(scenario), str(tmp_path / root), progress=None).run()
        return np.array([w[5] for w in state["windows"]]).reshape(3, 4)

    replayed = step_losses(cached, "a")
    assert len(calls) == 4
    np.testing.assert_allclose(replayed[1:], replayed[[0, 0]], rtol=1e-6)
    fresh = step_losses(uncached, "b")
    np.testing.assert_allclose(fresh[0], replayed[0], rtol=1e-5)
    assert np.max(np.abs(fresh[1] - fresh[0]) / fresh[0]) > 1e-2


def test_an_interrupted_cache_head_stage_resumes_to_the_same_weights(tmp_path, photo_folder):
    scenario = _decoder_only(photo_folder, 3, 2)
    straight = _untrained_link(scenario)
    Trainer(scenario, 0, straight, str(tmp_path / "a"), progress=None).run()
    Trainer(scenario, 0, _untrained_link(scenario), str(tmp_path / "b"), progress=None).run(max_epochs=2)
    resumed = _untrained_link(scenario)
    state = Trainer(scenario, 0, resumed, str(tmp_path / "b"), progress=None).run()  # epoch 3 replays epoch 1: the head runs again
    assert state["complete"]
    for a, b in zip(_weights(straight), _weights(resumed)):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def test_cache_head_needs_frozen_stages_before_the_trained_ones(write_scenario, capsys):
    from linksim.cli import main

    assert main(["validate", write_scenario(tiny_learned(cache_head=2))]) == 2
    assert "'cache_head' needs frozen stages before the first trained one ('latent' is trained)" in capsys.readouterr().err


def test_cli_losses_prints_each_epochs_mean_as_the_checkpoint_holds_it_and_marks_replayed_heads(
        write_scenario, tmp_path, capsys, photo_folder):
    from linksim.cli import main
    from linksim.run.checkpoints import CheckpointStore

    scenario = _decoder_only(photo_folder, 3, 2)
    path, checkpoints = write_scenario(scenario.model_dump(mode="json", exclude_none=True)), str(tmp_path / "ck")
    assert main(["losses", path, "--checkpoints", checkpoints]) == 2
    assert "no training checkpoint with finished epochs" in capsys.readouterr().err
    assert main(["train", path, "--checkpoints", checkpoints, "--quiet"]) == 0
    figure = tmp_path / "loss.png"
    assert main(["losses", path, "--checkpoints", checkpoints, "--out", str(figure)]) == 0
    lines = capsys.readouterr().out.splitlines()
    state = CheckpointStore(checkpoint_path(scenario, scenario.curves[0], checkpoints)).state()
    assert lines[0] == "curve,stage,round,epoch,loss,head"
    rows = [line.split(",") for line in lines[1:]]
    assert [r[5] for r in rows] == ["drawn", "drawn", "replayed"] and [r[3] for r in rows] == ["1", "2", "3"]
    np.testing.assert_allclose([float(r[4]) for r in rows], [entry[3] for entry in state["losses"]], rtol=1e-5)
    assert figure.stat().st_size > 5_000
    assert main(["losses", path, "--out", str(tmp_path / "loss.txt")]) == 2
    assert "expected a .png, .pdf or .svg file name" in capsys.readouterr().err
