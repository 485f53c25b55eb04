"""Registered datasets, objectives and bridges: declared shapes, the two spellings of a component,
the auxiliary losses of a layer, and one-line errors naming the valid names."""
import copy
import math

import numpy as np
import pytest
import tensorflow as tf

import linksim.components  # noqa: F401
from linksim.engine import registry
from linksim.engine.errors import InputError
from linksim.catalogue.objectives import TrainingRun
from linksim.scenario import build_curve, parse_scenario
from linksim.run.training import Trainer, build_layers as _build_layers
from tests.test_training import tiny_learned


def test_a_dataset_declares_the_shape_and_range_of_what_it_loads():
    scenario = parse_scenario(tiny_learned())
    data = scenario.data
    assert data.dataset == "bundled-photos" and data.sample_shape == (16, 16, 3)
    samples = data.load("test")
    assert samples.shape[1:] == data.sample_shape
    low, high = data.value_range
    scaled = samples / data.stored_max
    assert scaled.min() >= low and scaled.max() <= high and scaled.max() > 0.9  # real photos use the range
    assert scenario.curves[0].source.block_size(data) == math.prod(data.sample_shape)
    link, _ = build_curve(scenario, scenario.curves[0])
    sent = link.source.apply(None, _Context(batch_size=4))
    np.testing.assert_array_equal(sent.numpy(), samples[:4].astype(np.float32) / 255.0)


class _Context:
    def __init__(self, batch_size):
        self.batch_size, self.chunk, self.max_samples, self.valid = batch_size, 0, None, None


@pytest.mark.parametrize("short, long", [
    ({"loss": "l1"}, {"loss": {"type": "l1"}}),
    ({"channel": "surrogate"}, {"channel": {"type": "surrogate", "noise": "uniform", "alpha": 0.5, "mask_ratio": 0.0}}),
    ({}, {"loss": {"type": "mse"}, "channel": {"type": "phy"}}),
])
def test_a_component_by_name_equals_its_mapping_with_default_parameters(short, long):
    a = parse_scenario(tiny_learned(**short)).curves[0].training.stages[0]
    b = parse_scenario(tiny_learned(**long)).curves[0].training.stages[0]
    assert a == b


@pytest.mark.parametrize("overrides, message", [
    ({"loss": "hinge"}, r"curves\[0\]\.training\.stages\[0\]\.loss: type 'hinge' does not match any of the expected tags: "
                        + ", ".join(f"'{n}'" for n in registry.names("objective"))),
    ({"channel": {"type": "wire"}}, r"stages\[0\]\.channel: type 'wire' does not match any of the expected tags: 'analog', 'phy', 'surrogate'"),
    ({"channel": {"type": "surrogate", "noise": "pink"}}, r"stages\[0\]\.channel\.noise: input should be 'uniform' or 'gaussian'"),
    ({"channel": {"type": "phy", "mask_ratio": 1.5}}, r"stages\[0\]\.channel\.mask_ratio: input should be less than 1"),
    ({"channel": {"type": "phy", "flip_probability": 0.1}}, "'flip_probability' needs a stage with a flip probability"),
    ({"loss": {"type": "l1", "restoration": {"output": "latent", "target": "nowhere"}}}, "restoration reads tap 'nowhere'"),
])
def test_bad_objectives_and_bridges_are_one_line_errors_naming_the_key(overrides, message):
    with pytest.raises(InputError, match=message) as info:
        parse_scenario(tiny_learned(**overrides))
    assert "\n" not in str(info.value)


def test_a_surrogate_bridge_needs_a_quantizer_in_the_span():
    spec = tiny_learned(channel="surrogate")
    stages = spec["curves"][0]["stages"]
    stages[:] = [s for s in stages if s["type"] not in ("quantizer", "dequantizer", "ad", "da", "mapper", "slicer")]
    spec["curves"][0]["stages"].insert(1, {"type": "real_awgn"})
    spec["curves"][0]["stages"].pop(2)  # encoder → real_awgn → decoder
    spec["snr"]["convention"] = "snr"
    with pytest.raises(InputError, match="channel 'surrogate' needs a quantizer between the learned stages"):
        parse_scenario(spec)


def test_linksim_list_shows_every_kind():
    entries = registry.catalogue()
    assert set(entries) == {"source", "stage", "metric", "dataset", "objective", "bridge"}
    assert {"bundled-photos", "cifar10", "image-folder", "ct-phantom", "amos", "dicom"} == {n for n, _ in entries["dataset"]}
    assert {"phy", "surrogate", "analog"} == {n for n, _ in entries["bridge"]}
    assert {"mse", "l1", "dsm"} <= {n for n, _ in entries["objective"]}


def test_the_add_loss_terms_of_a_trained_layer_join_the_objective():
    """A decoder that adds c·mean(w²) of its first kernel: the step's loss is the objective plus that term."""
    scenario = parse_scenario(tiny_learned(channel="surrogate"))
    link, _ = build_curve(scenario, scenario.curves[0])
    images = tf.constant(scenario.data.load("train")[:16], tf.float32) / 255.0
    _build_layers(link, images.shape[1:])
    decoder = link.stages[-1].block
    plain_call = decoder.call
    weight = 1000.0

    def call_with_penalty(x, training=False):
        decoder.add_loss(weight * tf.reduce_mean(tf.square(decoder.trainable_variables[0])))
        return plain_call(x, training=training)

    trainer = Trainer(scenario, 0, link, root="/nonexistent", progress=None)
    stage = scenario.curves[0].training.stages[0]
    args = (tf.constant(link.noise_variance(10.0), tf.float32), tf.constant(10.0), tf.constant([1, 2]), tf.zeros([9]))
    objective = stage.loss.build(TrainingRun(scenario.curves[0], stage, link, trainer.layers, stage.channel.build(scenario.curves[0])))
    expected_objective = float(objective(images, *args))
    penalty = weight * float(tf.reduce_mean(tf.square(decoder.trainable_variables[0])))
    _, plain_step, _ = trainer._optimizer_and_step(stage, 100)
    before = {tap: copy.deepcopy(layer.get_weights()) for tap, layer in trainer.layers.items()}
    assert float(plain_step(images, *args)) == pytest.approx(expected_objective, rel=1e-5)
    for tap, layer in trainer.layers.items():
        layer.set_weights(before[tap])  # the step updated them
    decoder.call = call_with_penalty
    _, penalised_step, _ = trainer._optimizer_and_step(stage, 100)
    assert float(penalised_step(images, *args)) == pytest.approx(expected_objective + penalty, rel=1e-5)
