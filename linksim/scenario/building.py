"""Building the runtime objects of a validated scenario: a curve's link and metrics (imports TensorFlow)."""
from dataclasses import dataclass

from linksim.catalogue.datasets import DatasetParams
from linksim.scenario.schema import Curve, Scenario

__all__ = ["BuildContext", "build_curve", "carried_shape"]


@dataclass(frozen=True)
class BuildContext:
    """What a component's ``build(context)`` may read beyond its own parameters.

    Attributes
    ----------
    convention : str
        The scenario's SNR convention (``esno``, ``ebno`` or ``snr``).
    data : DatasetParams
        The scenario's dataset (sample shape, value range, loaders).
    seed : int
        The scenario's seed (for state a stage draws once, outside any compiled step).
    curve : Curve
        The curve being built.
    sample_shape : tuple[int, ...]
        Shape of one dataset sample the link carries: the training split's for a training link, the
        curve source's split's for an evaluation link (they differ where a dataset trains on crops
        and tests on whole images). Stages size themselves from this, not from ``data``.
    """

    convention: str
    data: DatasetParams
    seed: int
    curve: Curve
    sample_shape: tuple[int, ...]


def carried_shape(scenario: Scenario, curve: Curve, training: bool = False) -> tuple[int, ...]:
    """Shape of one dataset sample through ``curve``'s link: the training split's in training, else that
    of the split its source reads (a source that reads no dataset: the training split's)."""
    split = "test" if not training and curve.source.reads_dataset and curve.source.split == "test" else "train"
    return tuple(scenario.data.split_shape(split))


def build_curve(scenario: Scenario, curve: Curve, training: bool = False):
    """Build the runtime link and metrics of one curve (imports TensorFlow); ``training``: the link that
    trains (it carries training samples), else the one that evaluates.

    Output
    ------
    link : linksim.engine.link.Link
        With ``signal_power`` ``None`` for ``signal_power: measured`` until calibrated
        (:func:`linksim.run.power.calibrate_signal_power`).
    metrics : list[linksim.catalogue.metrics.Metric]
        The curve's metrics, then the mean power of each noise channel's input (``tx_power``), then the
        means of what its stages measure (e.g. a decoder's ``iterations``).
    """
    from linksim.catalogue.metrics import power_metric, statistic_metric
    from linksim.engine.link import Link

    sample_shape = carried_shape(scenario, curve, training)
    context = BuildContext(convention=scenario.snr.convention, data=scenario.data, seed=scenario.seed, curve=curve,
                           sample_shape=sample_shape)
    link = Link(
        source=curve.source.build(context),
        stages=[s.build(context) for s in curve.stages],
        convention=scenario.snr.convention,
        bits_per_symbol=curve.bits_per_symbol(),
        coderate=curve.effective_coderate(),
        energy_overhead=curve.energy_overhead(),
        signal_power={"nominal": 1.0, "measured": None}.get(curve.signal_power, curve.signal_power),
        sample_shape=sample_shape,
    )
    built = [m.build_for(curve) for m in curve.metrics]
    metrics = [m for entry in built for m in (entry if isinstance(entry, list) else [entry])]
    measured = [power_metric(name, tap) for name, tap in zip(curve.power_metric_names(), curve.channel_input_taps())]
    return link, metrics + measured + [statistic_metric(name, tap) for name, tap in curve.statistic_metrics()]
