"""The scenario schema: typed, validated pydantic models of a scenario file.

Component fields (sources, stages, metrics, datasets, objectives, bridges) are tagged unions of
what :mod:`linksim.engine.registry` holds when this module is imported, so components register
before (importing :mod:`linksim.components` registers linksim's own). Every rule that spans several
keys is a named validator; rules of one component live on its parameter model. Imports no
TensorFlow.
"""
import math
from typing import Annotated, Literal, Union

import numpy as np
from pydantic import BeforeValidator, Field, ValidationInfo, field_validator, model_validator

import linksim.components  # noqa: F401  (registers every component)
from linksim.catalogue.bridges import PhyBridge
from linksim.catalogue.datasets import DEFAULT_DATASET, BundledPhotos, checks_data_files
from linksim.catalogue.metrics import BER
from linksim.catalogue.objectives import MSEObjective
from linksim.engine.errors import InputError
from linksim.engine.registry import NAME_PATTERN, Params, freeze, models, tag
from linksim.engine.stage import LABELLING, MODULATION, Signal, statistic_tap
from linksim.engine.statistics import POWER_METRIC
from linksim.phy.snr import snr_grid
from linksim.plugins import MODULE_PATTERN, load_entry_points

__all__ = ["Scenario", "Curve", "SNRSweep", "MonteCarloSettings", "Training", "TrainingStage", "TAGGED_FIELDS", "POWER_METRIC"]

MAX_POINTS = 10_000
MAX_CHUNK_ELEMENTS = 2**31 - 1


load_entry_points()  # installed packages' components, before the unions below are made


def _union(kind):
    freeze(kind)  # a component registered after this would be missing from the union
    return Annotated[Union[tuple(models(kind))], Field(discriminator=tag(kind))]


def _name_alone(value):
    """``loss: mse`` stands for ``loss: {type: mse}`` (a component with default parameters)."""
    return {"type": value} if isinstance(value, str) else value


def _default_dataset(value):
    """A ``data`` section without ``dataset`` reads the bundled photos."""
    return {"dataset": DEFAULT_DATASET, **value} if isinstance(value, dict) and "dataset" not in value else value


SourceSpec = _union("source")
StageSpec = _union("stage")
MetricSpec = _union("metric")
DatasetSpec = Annotated[_union("dataset"), BeforeValidator(_default_dataset)]
ObjectiveSpec = Annotated[_union("objective"), BeforeValidator(_name_alone)]
BridgeSpec = Annotated[_union("bridge"), BeforeValidator(_name_alone)]
TAGGED_FIELDS = ("source", "data", "loss", "channel")  # fields holding one tagged component


class SNRSweep(Params):
    """SNR points: ``start``/``stop``/``step`` (stop included) or explicit ``values``, in dB."""

    convention: Literal["esno", "ebno", "snr"]
    start: float | None = Field(default=None, ge=-100, le=200)
    stop: float | None = Field(default=None, ge=-100, le=200)
    step: float | None = Field(default=None, gt=0, le=300)
    values: list[Annotated[float, Field(ge=-100, le=200)]] | None = Field(default=None, min_length=1, max_length=MAX_POINTS)

    @model_validator(mode="after")
    def _range_or_values(self):
        ranged = (self.start, self.stop, self.step)
        if self.values is not None:
            if any(v is not None for v in ranged):
                raise ValueError("give either 'values' or 'start'/'stop'/'step', not both")
            if any(b <= a for a, b in zip(self.values, self.values[1:])):
                raise ValueError("'values' must be strictly increasing")
            return self
        if any(v is None for v in ranged):
            raise ValueError("give 'values' or all of 'start', 'stop' and 'step'")
        if self.stop < self.start:
            raise ValueError("'stop' must not be below 'start'")
        if (self.stop - self.start) / self.step + 1 > MAX_POINTS:
            raise ValueError(f"more than {MAX_POINTS} SNR points")
        return self

    def points(self) -> np.ndarray:
        """The SNR points in dB, [P] float64."""
        if self.values is not None:
            return np.asarray(self.values, dtype=np.float64)
        return snr_grid(self.start, self.stop, self.step)


class MonteCarloSettings(Params):
    """When a point stops, how intervals are computed, how the graph runs, how often the point
    in progress is committed to the results file for ``--resume``."""

    batch_size: int = Field(default=1000, gt=0, le=10**8)
    target_errors: int | None = Field(default=1000, gt=0)
    target_block_errors: int | None = Field(default=None, gt=0)
    max_samples: int = Field(default=10**6, gt=0, le=10**15)
    max_seconds: float | None = Field(default=None, gt=0, le=10**7)
    stop_after_error_free: bool = True
    confidence: float = Field(default=0.95, gt=0.5, lt=1)
    interval: Literal["clopper-pearson", "wilson"] = "clopper-pearson"
    execution: Literal["eager", "graph", "xla"] = "xla"
    checkpoint_seconds: float = Field(default=2.0, ge=0, le=3600)


class Theory(Params):
    """Closed-form reference curve drawn next to a measured BER: uncoded ``modulation`` over AWGN
    (``awgn_ber``) or over Rayleigh fading with perfect CSI (``rayleigh_ber``)."""

    type: Literal["awgn_ber", "rayleigh_ber"]
    modulation: MODULATION
    labelling: LABELLING = "gray"


class TrainingSNR(Params):
    """Training SNR in the scenario's convention, drawn uniformly per batch (low = high: fixed)."""

    low: float = Field(ge=-100, le=200)
    high: float = Field(ge=-100, le=200)

    @model_validator(mode="after")
    def _ordered(self):
        if self.high < self.low:
            raise ValueError("'high' must not be below 'low'")
        return self


class TrainingStage(Params):
    """One phase of a training schedule: which learned stages update, for how long, how.

    ``loss`` is a registered objective (:mod:`linksim.catalogue.objectives`, or a system's own, e.g. score
    matching), ``channel`` a registered bridge (:mod:`linksim.catalogue.bridges`): what the non-learned span
    between the learned stages does in training. Either may be written as its name alone
    (``loss: l1``) or with parameters (``loss: {type: l1, restoration: {...}}``). ``snr`` is the
    training SNR range; objectives that need none and ``per_point`` schedules do without it.

    ``cache_head: K`` runs the frozen stages before the first trained one (the head) in the first
    K epochs only and keeps their outputs; epoch e ≥ K replays epoch e mod K — the same batches,
    SNRs and noise — through the trained stages. The first K epochs are exactly those of an
    uncached stage; later ones re-use K draws of the channel and the frozen stages instead of new
    ones. Worth it when the head is costly and the trained tail cheap (a decoder fine-tuned behind
    a sampler). The head runs under XLA when the scenario's execution is ``xla``.
    """

    name: str = Field(pattern=NAME_PATTERN)
    train: list[str] = Field(min_length=1, max_length=64)
    epochs: int | None = Field(default=None, ge=1, le=100_000)
    steps: int | None = Field(default=None, ge=1, le=10**9)
    batch_size: int = Field(default=64, ge=1, le=65_536)
    optimizer: Literal["adam", "sgd"] = "adam"  # sgd: momentum 0.9
    learning_rate: float = Field(default=1e-3, gt=0, le=10)
    schedule: Literal["constant", "cosine"] = "cosine"
    ema: float | None = Field(default=None, gt=0, lt=1)  # keep an exponential moving average of the weights (this momentum) and end on it
    cache_head: int | None = Field(default=None, ge=1, le=100_000)
    loss: ObjectiveSpec = MSEObjective(type="mse")
    snr: TrainingSNR | None = None
    channel: BridgeSpec = PhyBridge(type="phy")

    def head_length(self, curve) -> int:
        """How many of ``curve``'s stages come before the first one this stage trains (its frozen head)."""
        return next(i for i, s in enumerate(curve.stages) if s.learned and s.tap_name in self.train)

    @model_validator(mode="after")
    def _length(self):
        if (self.epochs is None) == (self.steps is None):
            raise ValueError("give exactly one of 'epochs' or 'steps'")
        return self


class JobResources(Params):
    """What one training job takes on a Ray cluster: CPUs (its TensorFlow threads) and GPUs (fractions allowed)."""

    cpus: float = Field(default=1, gt=0, le=1024)
    gpus: float = Field(default=0, ge=0, le=64)


class Training(Params):
    """A schedule of training stages, repeated ``rounds`` times (alternating schedules).

    ``replicates: N`` trains N independently seeded copies of the curve (replicate 0 is the
    unreplicated curve; the others' seeds are keyed by their index), each with its own checkpoint,
    all swept on the same test data and noise; results report each one (``<curve>#r<k>``) and their
    mean with the interval across them, the training spread.

    ``init_from`` starts from the trained weights of an earlier curve (the layers with the same
    tap names), e.g. a denoiser trained on top of a finished codec. ``per_point`` trains one set
    of weights per SNR point of the sweep, each at its own SNR and evaluated there (a bank of
    per-SNR codecs); its stages give no ``snr``.

    ``resources``: what one training job of this curve takes on a Ray cluster (``--backend ray``):
    ``cpus`` (also its TensorFlow threads) and ``gpus`` (fractions share a device); it never changes
    the trained weights.
    """

    rounds: int = Field(default=1, ge=1, le=1000)
    replicates: int = Field(default=1, ge=1, le=100)
    stages: list[TrainingStage] = Field(default_factory=list, max_length=64)
    init_from: str | None = Field(default=None, pattern=NAME_PATTERN)
    per_point: bool = False
    resources: JobResources | None = None

    @model_validator(mode="after")
    def _stages_or_init_from(self):
        if not self.stages and self.init_from is None:
            raise ValueError("give at least one training stage (or 'init_from' to reuse another curve's weights)")
        if self.per_point and self.init_from is not None:
            raise ValueError("'per_point' and 'init_from' cannot be combined")
        return self

    @model_validator(mode="after")
    def _training_snr_where_needed(self):
        for stage in self.stages:
            if self.per_point and stage.snr is not None:
                raise ValueError(f"stage {stage.name!r}: 'per_point' trains at each SNR point; remove 'snr'")
            if not self.per_point and stage.snr is None and stage.loss.needs_snr:
                raise ValueError(f"stage {stage.name!r}: missing required key 'snr'")
        return self


class Curve(Params):
    """One link measured over the sweep.

    ``signal_power`` sets the noise of every SNR point (noise = power / SNR in the scenario's
    convention) and says what the SNR axis means:

    - a number (default 1, a unit-energy constellation): a claim the run checks, at its start,
      against the measured mean power of the channel input (within 5 %, else the run stops);
    - ``measured``: the mean channel-input power over the dataset's training split, measured once
      per run before training or sweeping, so the axis is the true SNR by construction (stages
      before the channel must not be learned: their power would change in training);
    - ``nominal``: noise as for power 1, whatever the link sends (a paper's nominal axis, e.g. a
      learned analog transmitter without power normalisation); tables say so, and
      ``linksim compare --axis effective`` compares such curves at equal measured power.

    Every noise channel's input power is measured at every point (metric ``tx_power``).
    """

    name: str = Field(pattern=NAME_PATTERN)
    source: SourceSpec
    stages: list[StageSpec] = Field(min_length=1, max_length=64)
    metrics: list[MetricSpec] = Field(default_factory=lambda: [BER(type="ber")], min_length=1)
    theory: Theory | None = None
    coderate: float = Field(default=1.0, gt=0, le=1)
    signal_power: Annotated[float, Field(gt=0, le=1e12)] | Literal["measured", "nominal"] = 1.0
    training: Training | None = None
    weights: Literal["random"] | None = None  # run learned stages untrained, on purpose

    @model_validator(mode="after")
    def _unique_taps(self):
        taps = [self.source.tap_name] + [s.tap_name for s in self.stages]
        duplicates = sorted({t for t in taps if taps.count(t) > 1})
        if duplicates:
            raise ValueError(f"tap names must be unique, repeated: {', '.join(duplicates)} (rename with 'tap:')")
        return self

    @model_validator(mode="after")
    def _metrics_read_existing_taps(self):
        known = [self.source.tap_name] + [s.tap_name for s in self.stages] + ["output"]
        for metric in self.metrics:
            for tap in (metric.sent, metric.received):
                if tap not in known:
                    raise ValueError(f"metric {metric.metric_name!r} reads tap {tap!r}; this curve has: {', '.join(known)}")
        return self

    @model_validator(mode="after")
    def _unique_metric_names(self):
        metric_names = [n for m in self.metrics for n in m.metric_names()]
        if len(set(metric_names)) != len(metric_names):
            raise ValueError("metric names must be unique (set 'name:' to tell two apart)")
        return self

    @model_validator(mode="after")
    def _metric_draws_match_source(self):
        for metric in self.metrics:
            if metric.tile_grid() is not None:
                if self.source.batch_multiple() != 1 or not self.source.reads_dataset or self.source.split != "test":
                    raise ValueError(f"metric {metric.metric_name!r}: 'tiles' needs the 'images' source of the test split, "
                                     "each sample sent once (no repeat)")
            elif metric.rows_per_block() not in (1, self.source.batch_multiple()):
                raise ValueError(f"metric {metric.metric_name!r}: 'draws: {metric.rows_per_block()}' needs a source that repeats each "
                                 f"sample as often (this source: {self.source.batch_multiple()})")
        return self

    @model_validator(mode="after")
    def _engine_metric_names_reserved(self):
        taken = [n for m in self.metrics for n in m.metric_names() if n == POWER_METRIC or n.startswith(POWER_METRIC + "_")]
        if taken:
            raise ValueError(f"metric name {taken[0]!r} is reserved for the measured channel-input power; rename it with 'name:'")
        measured = {name for name, _ in self.statistic_metrics()}
        taken = [n for m in self.metrics for n in m.metric_names() if n in measured]
        if taken:
            raise ValueError(f"metric name {taken[0]!r} is what a stage of this curve measures (its mean is reported); rename it with 'name:'")
        return self

    @model_validator(mode="after")
    def _measured_power_has_a_fixed_transmitter(self):
        if self.signal_power != "measured":
            return self
        channels = self.noise_channels()
        if not channels:
            raise ValueError("'signal_power: measured' needs a noise channel stage (awgn, real_awgn, rayleigh)")
        if not self.source.reads_dataset:
            raise ValueError("'signal_power: measured' is measured over the training split: it needs the 'images' source")
        before = {s.tap_name for s in self.stages[:channels[0]] if s.learned}
        for stage in self.training.stages if self.training is not None and before else []:
            trained = set(stage.train)
            if trained & before and (trained - before or stage.loss.uses_bridge or stage.loss.needs_snr):
                raise ValueError(f"'signal_power: measured' needs the stages before the channel fixed while the link trains through "
                                 f"it, but training stage {stage.name!r} trains {sorted(trained & before)[0]!r} with stages after "
                                 "it or through the channel (its power changes in that training): train it on its own objective, "
                                 "or use 'nominal' and `linksim compare --axis effective`")
        return self

    @model_validator(mode="after")
    def _coderate_given_once(self):
        if self.coderate != 1.0 and any(s.code_rate() is not None for s in self.stages):  # by value: resolved scenarios re-validate
            raise ValueError("'coderate' is taken from the encoder stages of this curve; remove it")
        return self

    @model_validator(mode="after")
    def _learned_stages_have_weights(self):
        learned = [s.tap_name for s in self.stages if s.learned]
        if learned and self.training is None and self.weights is None:
            raise ValueError(f"learned stage(s) {', '.join(map(repr, learned))} but no 'training' section: add one (or "
                             "'training: {init_from: CURVE}'), or 'weights: random' to run them untrained")
        if self.weights == "random" and self.training is not None:
            raise ValueError("'weights: random' runs the learned stages untrained: remove it or the 'training' section")
        if self.weights == "random" and not learned:
            raise ValueError("'weights: random' runs learned stages untrained, but this curve has none: remove it")
        return self

    @model_validator(mode="after")
    def _theory_matches_the_modulation(self):
        if self.theory is None:
            return self
        try:
            sent = [s.modulation for s in self.signals().values() if s.kind == "symbols" and s.modulation is not None]
        except ValueError:
            return self  # the chain check reports it
        if sent and sent[0] != self.theory.modulation:
            raise ValueError(f"theory: the closed form of {self.theory.modulation} on a curve that sends {sent[0]} symbols; "
                             f"write 'modulation: {sent[0]}'")
        return self

    @model_validator(mode="after")
    def _training_fits_curve(self):
        if self.training is None:
            return self
        if not self.source.reads_dataset:
            raise ValueError("training feeds dataset samples: a curve with 'training' needs the 'images' source")
        learned = [s.tap_name for s in self.stages if s.learned]
        for stage in self.training.stages:
            unknown = [t for t in stage.train if t not in learned]
            if unknown:
                raise ValueError(f"training stage {stage.name!r} trains {', '.join(unknown)}, not learned stages of this "
                                 f"curve (learned: {', '.join(learned) or 'none'})")
            stage.loss.check(self, stage)
            if stage.cache_head is not None:
                _check_cache_head(self, stage)
            if stage.loss.uses_bridge:
                stage.channel.check(self, stage)
            elif stage.channel != PhyBridge(type="phy"):  # by value, so that the resolved scenario (every default written) re-validates
                raise ValueError(f"training stage {stage.name!r}: 'loss: {stage.loss.type}' runs no bridge; remove 'channel'")
        return self

    @property
    def replicates(self) -> int:
        """Independently trained copies of this curve (1 without training)."""
        return self.training.replicates if self.training is not None else 1

    def replicate_names(self) -> list[str]:
        """The results-file names of this curve's replicates: ``<name>#r<k>``, or its name alone."""
        return [self.name] if self.replicates == 1 else [f"{self.name}#r{k}" for k in range(self.replicates)]

    def check_chain(self) -> None:
        """``ValueError`` at the first stage that cannot take what it receives, or the first metric that
        cannot compare its two taps."""
        signals = self.signals()
        for metric in self.metrics:
            try:
                metric.check_signals(signals.get(metric.sent, Signal()), signals.get(metric.received, Signal()))
            except ValueError as exc:
                raise ValueError(f"metric {metric.metric_name!r} {exc}") from None

    def signals(self) -> dict:
        """``{tap: Signal}`` along the chain (``output`` too), as the stages declare them; ``ValueError``
        naming the first stage that cannot take what it receives."""
        signal = self.source.signal(Signal())
        out = {self.source.tap_name: signal}
        for stage in self.stages:
            try:
                signal = stage.signal(signal)
            except ValueError as exc:
                raise ValueError(f"stage {stage.type} {stage.tap_name!r} {exc}") from None
            out[stage.tap_name] = signal
        out["output"] = signal
        return out

    def noise_channels(self) -> list[int]:
        """Indices of the stages that add noise to their input."""
        return [i for i, s in enumerate(self.stages) if s.noise_channel]

    def channel_input_taps(self) -> list[str]:
        """The tap entering each noise channel (the previous stage's, or the source's)."""
        return [(self.stages[i - 1] if i else self.source).tap_name for i in self.noise_channels()]

    def power_metric_names(self) -> list[str]:
        """``tx_power`` for the first noise channel's input, ``tx_power_<channel tap>`` for the others."""
        return [POWER_METRIC if n == 0 else f"{POWER_METRIC}_{self.stages[i].tap_name}" for n, i in enumerate(self.noise_channels())]

    def statistic_metrics(self) -> list[tuple[str, str]]:
        """``(metric name, tap)`` of what the stages measure beside their outputs (:meth:`StageParams.statistics`):
        the statistic's own name for its first stage (e.g. ``iterations``), ``<name>_<stage tap>`` after."""
        out, seen = [], set()
        for stage in self.stages:
            for name in stage.statistics():
                out.append((name if name not in seen else f"{name}_{stage.tap_name}", statistic_tap(stage.tap_name, name)))
                seen.add(name)
        return out

    def engine_metric_names(self) -> list[str]:
        """The mean metrics the engine adds to this curve: channel-input powers, then stage statistics."""
        return self.power_metric_names() + [name for name, _ in self.statistic_metrics()]

    def theory_reference(self) -> dict | None:
        """The ``theory`` section as results files store it, with the curve's energy overhead where it has one."""
        if self.theory is None:
            return None
        overhead = self.energy_overhead()
        return self.theory.model_dump() | ({"energy_overhead": overhead} if overhead != 1 else {})

    def counted(self) -> dict:
        """``{metric: what one of its trials is}`` where a metric says (``bler`` per codeword or per row)."""
        return {m.metric_name: text for m in self.metrics if (text := m.counted(self)) is not None}

    def bits_per_symbol(self) -> int | None:
        found = [s.bits_per_symbol() for s in self.stages if s.bits_per_symbol()]
        return found[0] if found else None

    def energy_overhead(self) -> float:
        """Product of the stages' energy overheads (1 without any): Eb/N0 counts it."""
        return math.prod(s.energy_overhead() for s in self.stages if s.energy_overhead() is not None)

    def effective_coderate(self) -> float:
        """The ``coderate`` given, or the product of the rates of the curve's encoder stages."""
        rates = [s.code_rate() for s in self.stages if s.code_rate() is not None]
        return math.prod(rates) if rates else self.coderate


def _check_cache_head(curve, stage):
    """``cache_head`` needs frozen stages before the first trained one and an objective that replays them."""
    if not stage.loss.replays_head:
        raise ValueError(f"training stage {stage.name!r}: 'cache_head' needs an objective that runs the link forward "
                         f"(mse, l1); 'loss: {stage.loss.type}' does not")
    if stage.head_length(curve) == 0:
        raise ValueError(f"training stage {stage.name!r}: 'cache_head' needs frozen stages before the first trained one "
                         f"({curve.stages[0].tap_name!r} is trained)")


class ComparisonFigure(Params):
    """Reconstructions of several curves side by side at chosen SNRs (``<out>_comparison.png``)."""

    curves: list[str] = Field(min_length=1, max_length=16)
    snr: list[Annotated[float, Field(ge=-100, le=200)]] = Field(min_length=1, max_length=16)
    num_images: int = Field(default=3, ge=1, le=16)


class SliceFigure(Params):
    """Volumes (samples [D, H, W, C]): one axial slice of several taps, one row per curve and SNR
    (``<out>_slices.png``). Channel 0 of each tap is shown; label maps with a colour map."""

    curves: list[str] = Field(min_length=1, max_length=16)
    snr: list[Annotated[float, Field(ge=-100, le=200)]] = Field(min_length=1, max_length=16)
    taps: list[str] = Field(min_length=1, max_length=16)
    labels: list[str] = Field(default=[], max_length=16)  # taps that hold label maps
    slice: int | None = Field(default=None, ge=0, le=100_000)  # default: the middle slice


class Figures(Params):
    """What ``linksim run`` shows: ``metrics`` limits the printed table and the metric plot to these
    (every metric is stored); ``versus`` adds ``<out>_versus_<metric>.png``, the shown metrics against
    that measured metric instead of the SNR; plus the extra figures."""

    metrics: list[str] | None = Field(default=None, min_length=1, max_length=64)
    versus: str | None = Field(default=None, min_length=1, max_length=64)
    comparison: ComparisonFigure | None = None
    slices: SliceFigure | None = None


class Scenario(Params):
    """A whole sweep: curves measured at the same SNR points with one seed.

    ``plugins`` names the modules of components from outside linksim that the scenario uses; they are
    checked to be loaded (``--plugin``, entry points), never imported by the scenario
    (:mod:`linksim.plugins`)."""

    name: str = Field(pattern=NAME_PATTERN)
    description: str = Field(default="", max_length=10_000)
    plugins: list[Annotated[str, Field(pattern=MODULE_PATTERN, max_length=200)]] | None = Field(default=None, max_length=64)
    seed: int = Field(default=0, ge=0, le=2**63 - 1)
    snr: SNRSweep
    montecarlo: MonteCarloSettings = MonteCarloSettings()
    data: DatasetSpec = BundledPhotos(dataset=DEFAULT_DATASET)
    curves: list[Curve] = Field(min_length=1, max_length=256)
    figures: Figures = Figures()

    @field_validator("curves")
    @classmethod
    def _unique_curve_names(cls, curves):
        seen = [c.name for c in curves]
        if len(set(seen)) != len(seen):
            raise ValueError("curve names must be unique")
        return curves

    @field_validator("curves")
    @classmethod
    def _init_from_an_earlier_curve(cls, curves):
        for i, curve in enumerate(curves):
            source = curve.training.init_from if curve.training else None
            if source is None:
                continue
            earlier = {c.name: c for c in curves[:i]}
            if source not in earlier or earlier[source].training is None or earlier[source].training.per_point:
                raise ValueError(f"curves[{i}] ({curve.name}): 'init_from' must name an earlier curve with a (not per_point) "
                                 f"'training' section, got {source!r}")
        return curves

    def curve_named(self, name: str):
        return next(c for c in self.curves if c.name == name)

    def result_names(self, curve_indices=None) -> list[str]:
        """The results-file curves of the chosen curves in order: ``<curve>#r<k>`` for every replicate of
        a replicated curve, the curve's own name otherwise."""
        chosen = range(len(self.curves)) if curve_indices is None else curve_indices
        return [name for c in chosen for name in self.curves[c].replicate_names()]

    @model_validator(mode="after")
    def _figures_name_measured_metrics(self):
        names = {n for c in self.curves for m in c.metrics for n in m.metric_names()} | {
            n for c in self.curves for n in c.engine_metric_names()}
        for key, wanted in (("metrics", self.figures.metrics or []), ("versus", [self.figures.versus] if self.figures.versus else [])):
            unknown = [n for n in wanted if n not in names]
            if unknown:
                raise ValueError(f"figures.{key}: no curve measures {unknown[0]!r} (metrics: {', '.join(sorted(names))})")
        slices = self.figures.slices
        if slices is not None:
            unknown = [n for n in slices.curves if n not in {c.name for c in self.curves}]
            if unknown:
                raise ValueError(f"figures.slices: no curve {unknown[0]!r}")
        return self

    @model_validator(mode="after")
    def _comparison_figure_curves(self):
        comparison = self.figures.comparison
        if comparison is not None:
            images = {c.name for c in self.curves if c.source.reads_dataset}
            unknown = [n for n in comparison.curves if n not in images]
            if unknown:
                raise ValueError(f"figures.comparison: {', '.join(map(repr, unknown))} is not a curve with the 'images' source "
                                 f"(have: {', '.join(sorted(images)) or 'none'})")
            points = set(float(p) for p in self.snr.points())
            missing = [v for v in comparison.snr if float(v) not in points]
            if missing and any(c.training and c.training.per_point for c in self.curves if c.name in comparison.curves):
                raise ValueError(f"figures.comparison: per_point curves have weights only at the sweep's points, not at {missing[0]:g} dB")
        return self

    @model_validator(mode="after")
    def _whole_image_metrics_fit_the_tiles(self, info: ValidationInfo):
        if not checks_data_files(info):
            return self
        declared = {(c.name, m.metric_name): m.tile_grid() for c in self.curves for m in c.metrics}
        grids = {key: grid for key, grid in declared.items() if grid is not None}
        if not grids:
            return self
        try:
            actual = self.data.tile_grid()
        except InputError as exc:
            raise ValueError(str(exc)) from None
        for (curve, metric), (rows, cols) in grids.items():
            if (rows, cols) != actual:
                raise ValueError(f"curve {curve!r}, metric {metric!r}: 'tiles: [{rows}, {cols}]' but every test image is "
                                 f"{actual[0]}×{actual[1]} tiles (rows×cols); write tiles: [{actual[0]}, {actual[1]}]")
            if self.montecarlo.batch_size % (rows * cols) or self.montecarlo.max_samples % (rows * cols):
                raise ValueError(f"curve {curve!r}, metric {metric!r}: montecarlo.batch_size and max_samples must be multiples "
                                 f"of the {rows * cols} tiles of an image, so that no image's tiles are split")
        return self

    @model_validator(mode="after")
    def _learned_stages_take_both_shapes(self, info: ValidationInfo):
        if not checks_data_files(info):
            return self
        train, test = self.data.split_shape("train"), self.data.split_shape("test")
        if train == test:
            return self
        for i, curve in enumerate(self.curves):
            fixed = [s for s in curve.stages if s.learned and not s.fully_convolutional]
            if fixed and curve.source.reads_dataset:
                raise ValueError(f"curves[{i}] ({curve.name}): {fixed[0].type} {fixed[0].tap_name!r} has weights sized to its input, but the "
                                 f"dataset trains on {'×'.join(map(str, train))} and tests on {'×'.join(map(str, test))} samples "
                                 "(whole_test_images); only fully convolutional learned stages take both")
        return self

    @model_validator(mode="after")
    def _ebno_needs_a_mapper(self):
        for i, curve in enumerate(self.curves):
            if self.snr.convention == "ebno" and curve.bits_per_symbol() is None:
                raise ValueError(f"curves[{i}] ({curve.name}): the 'ebno' convention needs a mapper stage (bits per symbol)")
        return self

    @model_validator(mode="after")
    def _stages_fit_the_data(self):
        for i, curve in enumerate(self.curves):
            for stage in curve.stages:
                try:
                    stage.check(curve, self.data)
                except ValueError as exc:
                    raise ValueError(f"curves[{i}] ({curve.name}): {stage.type} {stage.tap_name!r}: {exc}") from None
        return self

    @model_validator(mode="after")
    def _chains_fit(self):
        for i, curve in enumerate(self.curves):
            try:
                curve.check_chain()
            except ValueError as exc:
                raise ValueError(f"curves[{i}] ({curve.name}): {exc}") from None
        return self

    @model_validator(mode="after")
    def _batches_fit_the_sources(self, info: ValidationInfo):
        for i, curve in enumerate(self.curves):
            multiple = curve.source.batch_multiple()
            if self.montecarlo.batch_size % multiple or self.montecarlo.max_samples % multiple:
                raise ValueError(f"curves[{i}] ({curve.name}): montecarlo.batch_size and max_samples must be multiples of the "
                                 f"source's repeat ({multiple}), so that no sample's rows are split")
            if not checks_data_files(info):  # the test samples' size may need the files
                continue
            elements = self.montecarlo.batch_size * curve.source.block_size(self.data)
            if elements > MAX_CHUNK_ELEMENTS:
                raise ValueError(f"curves[{i}] ({curve.name}): montecarlo.batch_size × block size = {elements:.3g} values per chunk, "
                                 f"more than 2^31; lower montecarlo.batch_size")
        return self
