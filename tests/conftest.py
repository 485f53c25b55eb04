import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # noqa: E402
import pytest  # noqa: E402
import yaml  # noqa: E402

from linksim.phy.intervals import clopper_pearson  # noqa: E402


def assert_in_binomial_interval(errors, trials, expected, confidence=0.99):
    """The exact value must lie in the Clopper–Pearson interval of the measured count."""
    low, high = clopper_pearson(errors, trials, confidence)
    assert low <= expected <= high, f"{errors}/{trials} = {errors / trials:.4e}; expected {expected:.4e} outside [{low:.4e}, {high:.4e}]"


@pytest.fixture
def write_scenario(tmp_path):
    """Write a scenario dict (or raw text) to a YAML file and return its path."""

    def write(content, name="scenario.yaml"):
        path = tmp_path / name
        path.write_text(content if isinstance(content, str) else yaml.safe_dump(content, sort_keys=False))
        return str(path)

    return write


def tiny_scenario(**overrides):
    """A small valid scenario: 16-QAM over AWGN with the slicer."""
    scenario = {
        "name": "tiny",
        "seed": 7,
        "snr": {"convention": "ebno", "start": 0.0, "stop": 4.0, "step": 2.0},
        "montecarlo": {"batch_size": 200, "target_errors": 500, "max_samples": 4000, "execution": "graph"},
        "curves": [{
            "name": "qam16",
            "source": {"type": "bits", "num_bits": 256},
            "stages": [{"type": "mapper", "modulation": "qam16"}, {"type": "awgn"}, {"type": "slicer", "modulation": "qam16"}],
            "metrics": [{"type": "ber"}, {"type": "bler"}],
            "theory": {"type": "awgn_ber", "modulation": "qam16"},
        }],
    }
    for key, value in overrides.items():
        scenario[key] = value
    return scenario


np.set_printoptions(precision=4)


@pytest.fixture
def eager():
    """Run tf.functions eagerly: tiny trainings of a few steps skip the graph tracing that
    dominates their time (the traced paths stay covered by the other tests)."""
    import tensorflow as tf

    tf.config.run_functions_eagerly(True)
    yield
    tf.config.run_functions_eagerly(False)


def trained_runner(scenario, root, curves):
    """A ChunkRunner over checkpoint root ``root`` after training the curves ``curves`` (what
    `linksim run` does before its sweep)."""
    from linksim.run.montecarlo import ChunkRunner
    from linksim.run.training import CurveWeights, train_curves

    train_curves(scenario, curves, root)
    return ChunkRunner(scenario, CurveWeights(scenario, root))
