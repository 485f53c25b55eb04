"""The base of every stage and source parameter model, and the helpers that wrap a built block.

Catalogue modules (:mod:`linksim.catalogue.sources`, :mod:`linksim.catalogue.phy_stages`, the system catalogues in
:mod:`linksim.systems`) subclass :class:`StageParams`; ``build(context)`` returns a
:class:`Stage`, the runtime step that :class:`linksim.engine.link.Link` chains. TensorFlow, ``phy`` and ``models`` are imported inside ``build`` so
that validating a scenario stays fast and quiet.
"""
from dataclasses import dataclass
from typing import Any, Callable, ClassVar, Literal

from pydantic import Field

from linksim.engine.registry import NAME_PATTERN, Params
from linksim.phy.modulations import MODULATIONS

__all__ = ["MODULATION", "LABELLING", "Signal", "StageParams", "Stage", "digital_span", "make_stage", "layer_stage", "statistic_tap"]

MODULATION = Literal[tuple(MODULATIONS)]
LABELLING = Literal["gray", "natural"]


def statistic_tap(stage_tap: str, name: str) -> str:
    """The tap under which the link records statistic ``name`` of the stage of tap ``stage_tap``
    (:meth:`StageParams.statistics`; ``:`` is not allowed in tap names, so it cannot clash)."""
    return f"{stage_tap}:{name}"


@dataclass(frozen=True)
class Signal:
    """What flows between two stages, as far as validation knows it (``None``: unknown).

    ``kind``: ``bits`` (hard bits), ``llrs`` (soft bits), ``symbols`` (complex constellation points),
    ``integers`` (level indices), or ``None``; ``size``: values per batch row; ``modulation``: of
    symbols; ``block``: information bits per codeword where a channel decoder gave the bits. Stages declare what they take and give with :meth:`StageParams.signal`, and validation
    walks the chain, so that a mismatch the runner would hit is a one-line error at ``validate``."""

    kind: str | None = None
    size: int | None = None
    modulation: str | None = None
    block: int | None = None  # bits per codeword, for bits a channel decoder decided

    def expect(self, *kinds: str) -> None:
        """``ValueError`` unless this signal is of one of ``kinds`` (or unknown)."""
        if self.kind is not None and self.kind not in kinds:
            raise ValueError(f"takes {' or '.join(kinds)}, but receives {self.kind}")


class StageParams(Params):
    """Common fields: ``tap`` renames the output (default per type).

    Class attributes a catalogue sets to describe its stage to the engine:

    - ``tap_default``: the output's tap name when ``tap`` is not given;
    - ``learned``: the stage is a Keras layer with trainable weights;
    - ``fully_convolutional``: a learned stage whose weights do not depend on the sample's height
      and width, so that it can train on crops and be tested on whole images;
    - ``trained_by``: the registered objective a learned stage must be trained with (a layer
      that owns its objective, e.g. a score model), or ``None`` for the generic ones;
    - ``point_parameter``: the name of the stage's per-SNR-point parameter, which a training
      bridge may fix (e.g. ``flip_probability``);
    - ``reads_dataset``: a source that yields the scenario's dataset samples (training feeds them);
    - ``xla_compatible``: ``False`` for a stage that runs NumPy code inside the graph (XLA cannot
      compile it: with ``montecarlo.execution: xla`` its curve runs as a plain graph);
    - ``noise_channel``: the stage adds noise to its input (an AWGN or fading channel): the engine
      measures the mean power of that input at every point (metric ``tx_power``) and the effective
      SNR from it, and checks a declared ``signal_power`` against it;
    - ``figures``: what the stage can show after a run (:mod:`linksim.output.figures`):
      ``reconstructions`` (a source of image samples), ``constellation`` (a channel on complex
      symbols: its input against its output).

    and methods: :meth:`check` (against the curve and the dataset), :meth:`calibrate` (statistics
    a trained layer keeps) and :meth:`batch_multiple` (for sources).
    """

    tap: str | None = Field(default=None, pattern=NAME_PATTERN)

    tap_default: ClassVar[str] = "output"
    learned: ClassVar[bool] = False
    fully_convolutional: ClassVar[bool] = False
    trained_by: ClassVar[str | None] = None
    point_parameter: ClassVar[str | None] = None
    reads_dataset: ClassVar[bool] = False
    xla_compatible: ClassVar[bool] = True
    figures: ClassVar[tuple[str, ...]] = ()
    noise_channel: ClassVar[bool] = False

    @property
    def tap_name(self) -> str:
        return self.tap or self.tap_default

    def statistics(self) -> list[str]:
        """Names of what this stage measures per row beside its output (its ``apply`` puts them in
        ``ctx.statistics``); the engine reports each as a mean metric. Default: none."""
        return []

    def bits_per_symbol(self) -> int | None:
        """Bits per channel symbol if this stage is a mapper (or stands for one)."""
        return None

    def code_rate(self) -> float | None:
        """k/n if this stage is a channel encoder (the link's Eb/N0 counts it)."""
        return None

    def energy_overhead(self) -> float | None:
        """Energy sent per data symbol over one data symbol's energy (pilots, cyclic prefix) if this
        stage adds such overhead; the link's Eb/N0 counts it."""
        return None

    def quantization_step(self) -> float | None:
        """Spacing of the levels if this stage is a uniform quantizer."""
        return None

    def check(self, curve, data) -> None:
        """Raise ``ValueError`` if this stage cannot work in ``curve`` on samples of ``data``. Default: fine."""

    def signal(self, received: Signal) -> Signal:
        """What this stage gives for what it ``received`` (a source receives ``Signal()``); ``ValueError``
        naming the mismatch if it cannot take it. Default: an unknown signal (nothing is checked)."""
        return Signal()

    def batch_multiple(self) -> int:
        """A source's rows come in groups of this many (``montecarlo.batch_size`` must be a multiple)."""
        return 1

    def calibrate(self, layer, layers: dict, samples) -> None:
        """After training: set the statistics a learned layer keeps from the training samples (e.g. a
        receiver's knowledge base). ``layers``: tap → every learned layer of the curve;
        ``samples()``: the training samples as float32 batches, in order. Default: nothing."""


@dataclass
class Stage:
    """One step of the chain.

    Attributes
    ----------
    name : str
        Registered type name (for messages).
    tap : str
        Name under which the output is recorded.
    block : object
        The Sionna Block / Keras layer, for users who want it on its own.
    apply : callable ``(x, ctx) -> y``
    learned : bool
        The block is a Keras layer with trainable weights.
    uses_global_rng : bool
        True for stock Sionna blocks that draw from ``sionna.phy.config.tf_rng``; the link
        then reseeds that generator from the batch seed (which costs throughput under XLA,
        so links without such a block skip it).
    point_value : callable ``(snr_db) -> float`` or None
        A parameter that depends on the SNR point but is computed outside the graph (e.g. a
        BSC's flip probability from the exact BER); it reaches ``apply`` as ``ctx.point_value``.
    """

    name: str
    tap: str
    block: Any
    apply: Callable
    point_value: Callable | None = None
    uses_global_rng: bool = False
    learned: bool = False


def digital_span(learned) -> tuple[int, int] | None:
    """``(start, end)`` stage indices of the non-learned stages between the first and the last
    learned stage (the quantizer … dequantizer chain of a semantic link), or ``None``.

    ``learned``: one bool per stage.
    """
    learned_at = [i for i, flag in enumerate(learned) if flag]
    if len(learned_at) < 2:
        return None
    start = next((i for i in range(learned_at[0] + 1, learned_at[-1]) if not learned[i]), None)
    if start is None:
        return None
    end = next(i for i in range(start, len(learned)) if learned[i])
    return start, end


def make_stage(params, block, apply, point_value=None, uses_global_rng=False, learned=False):
    """A :class:`Stage` of ``block`` named after ``params``; ``apply(x, ctx) -> y``."""
    return Stage(name=params.type, tap=params.tap_name, block=block, apply=apply, point_value=point_value,
                 uses_global_rng=uses_global_rng, learned=learned)


def layer_stage(params, layer, to_float=False):
    """A learned Keras layer called as ``layer(x, training=...)``; ``to_float`` casts integer-valued inputs."""
    import tensorflow as tf

    def apply(x, ctx):
        return layer(tf.cast(x, tf.float32) if to_float else x, training=ctx.training)

    return make_stage(params, layer, apply, learned=True)
