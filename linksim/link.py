"""A link: source → transmitter stages → channel → receiver stages, with taps.

Each stage wraps one component — a Sionna ``Block`` or a Keras layer — and an ``apply``
function that calls it with what it needs from the :class:`LinkContext` (noise variance,
stateless seed, training flag). A stage's output is recorded under its tap name, so metrics
can compare any two points of the chain (sent bits vs decided bits, sent vs received symbols,
image vs reconstruction). The last output is also tapped as ``output``.
"""
from dataclasses import dataclass, field
from typing import Any, Callable

import tensorflow as tf
from sionna.phy import config as sionna_config

from linksim.stages import digital_span

__all__ = ["LinkContext", "Stage", "Link"]


@dataclass
class LinkContext:
    """What every stage may read during one batch.

    Attributes
    ----------
    batch_size : int
    no : scalar tf.float32
        Noise variance of the point (N0 per complex symbol, or per real sample for ``snr``).
    snr_db : scalar tf.float32
    seed : [2] tf.int32
        Stateless seed of the current stage (set by :class:`Link` before each stage).
    point_value : scalar tf.float32 or None
        The current stage's per-point parameter (see :attr:`Stage.point_value`).
    chunk : scalar tf.int32
        Index of the chunk within its point (data sources use it to pick their images).
    max_samples : int or None
        Blocks per point; a data source marks rows past it invalid.
    valid : [batch_size] tf.bool or None
        Set by a data source whose last chunk runs past the end: metrics ignore invalid rows.
    no_eff : tensor or None
        Per-symbol effective noise variance after equalisation (set by fading channels).
    training : bool
    """

    batch_size: int
    no: Any
    snr_db: Any
    seed: Any = None
    point_value: Any = None
    chunk: Any = 0
    max_samples: int | None = None
    valid: Any = None
    no_eff: Any = None
    training: bool = False

    @property
    def demapper_no(self):
        """Noise variance a demapper should use: ``no_eff`` after equalisation, else ``no``."""
        return self.no if self.no_eff is None else self.no_eff


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


@dataclass
class Link:
    """An ordered chain ``source → stages``.

    Parameters
    ----------
    source : Stage
        ``apply(None, ctx)`` generates the batch.
    stages : list[Stage]
    bits_per_symbol : int or None
        Of the mapper, for Eb/N0; ``None`` for links without one.
    coderate : float
    convention : str
        SNR convention of the link (``esno``, ``ebno`` or ``snr``).
    signal_power : float
        Average energy per symbol (or per real sample for ``snr``).
    """

    source: Stage
    stages: list[Stage]
    convention: str
    bits_per_symbol: int | None = None
    coderate: float = 1.0
    signal_power: float = 1.0
    taps: list[str] = field(init=False)

    def __post_init__(self):
        self.taps = [self.source.tap] + [s.tap for s in self.stages] + ["output"]

    def noise_variance(self, snr_db: float) -> float:
        """Noise variance of an SNR point in the link's convention."""
        from phy.snr import noise_variance

        return float(noise_variance(
            snr_db, self.convention, bits_per_symbol=self.bits_per_symbol, coderate=self.coderate,
            signal_power=self.signal_power,
        ))

    def digital_span(self) -> tuple[int, int] | None:
        """See :func:`linksim.stages.digital_span`."""
        return digital_span([s.learned for s in self.stages])

    def point_values(self, snr_db: float) -> list[float]:
        """Per-stage point parameters at ``snr_db`` (0 for stages without one)."""
        return [float(s.point_value(snr_db)) if s.point_value else 0.0 for s in self.stages]

    def __call__(self, batch_size: int, no, snr_db, seed, point_values=None, training=False, chunk=0,
                 max_samples: int | None = None, inputs=None, bridge=None, until: str | None = None, head: dict | None = None) -> dict:
        """Run one batch.

        Input
        -----
        batch_size : int
        no, snr_db : scalar tf.float32
        point_values : [num_stages] tf.float32 or None
            From :meth:`point_values`.
        training : bool or collection of tap names
            Training mode of every stage, or of the stages with these taps only (a frozen
            stage runs as in evaluation).
        chunk : scalar tf.int32
            Chunk index within the point.
        max_samples : int or None
            Blocks per point (for data sources' ``valid`` rows).
        inputs : tensor or None
            Replaces the source's output (training feeds its own batches).
        bridge : callable ``(x_in, y, ctx) -> y`` or None
            Applied to the output of the non-learned span between two learned stages (see
            :meth:`digital_span`), with the span's input ``x_in``: training uses it to pass
            gradients through non-differentiable stages.
        until : str or None
            Stop after the stage with this tap.
        head : dict tap name → tensor, or None
            The taps of the first stages from an earlier call on the same batch and seed (its
            ``until`` output, without ``output``): the chain continues after the last of them.
            Those stages must leave nothing in the context that later stages read (``no_eff``).
        seed : [2] tf.int32
            Stateless seed of the batch; stage ``i`` gets its own split of it, and Sionna's
            global generator is reset from it when a stage uses it, so the batch is a pure
            function of the seed.

        Output
        ------
        dict tap name → tensor; plus ``valid`` ([batch_size] bool) when the source set it
        """
        seeds = tf.unstack(tf.random.split(tf.cast(seed, tf.int32), len(self.stages) + 2))
        if any(s.uses_global_rng for s in self.stages):
            words = tf.cast(tf.bitcast(seeds[-1], tf.uint32), tf.int64)
            key = tf.bitwise.bitwise_or(tf.bitwise.left_shift(words[0], 32), words[1])
            sionna_config.tf_rng.reset(tf.stack([tf.constant(0, tf.int64), tf.constant(0, tf.int64), key]))
        ctx = LinkContext(batch_size=batch_size, no=no, snr_db=snr_db, seed=seeds[0], training=training is True, chunk=chunk,
                          max_samples=max_samples)
        x = self.source.apply(None, ctx) if inputs is None else inputs
        taps = {self.source.tap: x}
        span = self.digital_span() if bridge is not None else None
        done = 0
        if head:
            done = 1 + max(i for i, s in enumerate(self.stages) if s.tap in head)
            taps.update({self.stages[i].tap: head[self.stages[i].tap] for i in range(done)})
            x = taps[self.stages[done - 1].tap]
        for i, (stage, stage_seed) in enumerate(zip(self.stages, seeds[1:])):
            if i < done:
                continue
            ctx.seed = stage_seed
            ctx.point_value = None if point_values is None else point_values[i]
            ctx.training = training if isinstance(training, bool) else stage.tap in training
            if span and i == span[0]:
                span_input = x
            x = stage.apply(x, ctx)
            if span and i == span[1] - 1:
                x = bridge(span_input, x, ctx)
            taps[stage.tap] = x
            if stage.tap == until:
                break
        taps["output"] = x
        if ctx.valid is not None:
            taps["valid"] = ctx.valid
        return taps
