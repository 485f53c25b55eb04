"""A link: source → transmitter stages → channel → receiver stages, with taps.

Each stage wraps one component — a Sionna ``Block`` or a Keras layer — and an ``apply``
function that calls it with what it needs from the :class:`LinkContext` (noise variance,
stateless seed, training flag). A stage's output is recorded under its tap name, so metrics
can compare any two points of the chain (sent bits vs decided bits, sent vs received symbols,
image vs reconstruction). The last output is also tapped as ``output``.

``Link.__call__`` is the forward pass (every stage in evaluation mode). Training drives the same
steps (:meth:`Link.begin`, :meth:`Link.run_stages`, :meth:`Link.finish`) with its own modes and
bridge (:meth:`linksim.catalogue.objectives.TrainingRun.forward`).
"""
from dataclasses import dataclass, field
from typing import Any

import tensorflow as tf
from sionna.phy import config as sionna_config

from linksim.engine.stage import Stage, digital_span, statistic_tap

__all__ = ["LinkContext", "Link"]


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
        The training mode of the current stage.
    statistics : dict name → [batch_size] tensor
        What the current stage measured per row beside its output (e.g. a decoder's iterations); the
        link records it in the taps as ``<stage tap>:<name>`` (:func:`linksim.engine.stage.statistic_tap`).
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
    statistics: dict = field(default_factory=dict)

    @property
    def demapper_no(self):
        """Noise variance a demapper should use: ``no_eff`` after equalisation, else ``no``."""
        return self.no if self.no_eff is None else self.no_eff


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
    signal_power : float or None
        Average energy per symbol (or per real sample for ``snr``) that the noise refers to;
        ``None`` until calibrated (a curve with ``signal_power: measured``).
    energy_overhead : float
        Energy sent per data symbol over a data symbol's energy (OFDM pilots and cyclic prefix):
        with ``ebno`` the energy per information bit includes it (Sionna's ``ebnodb2no``).
    sample_shape : tuple[int, ...]
        Shape of one dataset sample the link carries (what its layers are built on before trained
        weights load into them).
    """

    source: Stage
    stages: list[Stage]
    convention: str
    bits_per_symbol: int | None = None
    coderate: float = 1.0
    signal_power: float | None = 1.0
    energy_overhead: float = 1.0
    sample_shape: tuple[int, ...] = ()
    taps: list[str] = field(init=False)

    def __post_init__(self):
        self.taps = [self.source.tap] + [s.tap for s in self.stages] + ["output"]

    def noise_variance(self, snr_db: float) -> float:
        """Noise variance of an SNR point in the link's convention."""
        from linksim.phy.snr import noise_variance

        if self.signal_power is None:
            raise ValueError("the link's signal power is not calibrated yet (signal_power: measured)")
        return float(noise_variance(
            snr_db, self.convention, bits_per_symbol=self.bits_per_symbol, coderate=self.coderate,
            signal_power=self.signal_power * (self.energy_overhead if self.convention == "ebno" else 1.0),
        ))

    def digital_span(self) -> tuple[int, int] | None:
        """See :func:`linksim.engine.stage.digital_span`."""
        return digital_span([s.learned for s in self.stages])

    def point_values(self, snr_db: float) -> list[float]:
        """Per-stage point parameters at ``snr_db`` (0 for stages without one)."""
        return [float(s.point_value(snr_db)) if s.point_value else 0.0 for s in self.stages]

    def begin(self, batch_size: int, no, snr_db, seed, chunk=0, max_samples: int | None = None):
        """The context of one batch and the stateless seed of each step.

        Sionna's global generator is reset from the batch seed when a stage draws from it, so the
        batch is a pure function of ``seed``.

        Output
        ------
        ctx : LinkContext
            Its ``seed`` is the source's.
        seeds : list of [2] tf.int32
            ``seeds[1 + i]`` is stage ``i``'s.
        """
        seeds = tf.unstack(tf.random.split(tf.cast(seed, tf.int32), len(self.stages) + 2))
        if any(s.uses_global_rng for s in self.stages):
            words = tf.cast(tf.bitcast(seeds[-1], tf.uint32), tf.int64)
            key = tf.bitwise.bitwise_or(tf.bitwise.left_shift(words[0], 32), words[1])
            sionna_config.tf_rng.reset(tf.stack([tf.constant(0, tf.int64), tf.constant(0, tf.int64), key]))
        ctx = LinkContext(batch_size=batch_size, no=no, snr_db=snr_db, seed=seeds[0], chunk=chunk, max_samples=max_samples)
        return ctx, seeds

    def run_stages(self, x, taps: dict, ctx: LinkContext, seeds, point_values=None, start: int = 0, stop: int | None = None,
                   until: str | None = None, training=False):
        """Run stages ``start … stop − 1`` on ``x``, recording each output in ``taps``.

        Input
        -----
        x : tensor, the input of stage ``start``
        taps : dict tap name → tensor, filled in place
        ctx, seeds : from :meth:`begin`
        point_values : [num_stages] tf.float32 or None, from :meth:`point_values`
        until : str or None
            Stop after the stage with this tap.
        training : bool or collection of tap names
            Training mode of every stage, or of the stages with these taps only.

        Output
        ------
        x : the last output; ``stopped`` : bool, whether ``until`` was reached
        """
        for i in range(start, len(self.stages) if stop is None else stop):
            stage = self.stages[i]
            ctx.seed = seeds[1 + i]
            ctx.point_value = None if point_values is None else point_values[i]
            ctx.training = training if isinstance(training, bool) else stage.tap in training
            x = stage.apply(x, ctx)
            taps[stage.tap] = x
            taps.update({statistic_tap(stage.tap, name): value for name, value in ctx.statistics.items()})
            ctx.statistics.clear()
            if stage.tap == until:
                return x, True
        return x, False

    @staticmethod
    def finish(taps: dict, x, ctx: LinkContext) -> dict:
        """``taps`` with the last output as ``output`` and the source's ``valid`` rows, if any."""
        taps["output"] = x
        if ctx.valid is not None:
            taps["valid"] = ctx.valid
        return taps

    def __call__(self, batch_size: int, no, snr_db, seed, point_values=None, chunk=0, max_samples: int | None = None,
                 inputs=None, until: str | None = None) -> dict:
        """Run one batch, every stage in evaluation mode.

        Input
        -----
        batch_size : int
        no, snr_db : scalar tf.float32
        seed : [2] tf.int32
            Stateless seed of the batch; stage ``i`` gets its own split of it (see :meth:`begin`).
        point_values : [num_stages] tf.float32 or None
            From :meth:`point_values`.
        chunk : scalar tf.int32
            Chunk index within the point.
        max_samples : int or None
            Blocks per point (for data sources' ``valid`` rows).
        inputs : tensor or None
            Replaces the source's output.
        until : str or None
            Stop after the stage with this tap.

        Output
        ------
        dict tap name → tensor; plus ``valid`` ([batch_size] bool) when the source set it
        """
        ctx, seeds = self.begin(batch_size, no, snr_db, seed, chunk, max_samples)
        x = self.source.apply(None, ctx) if inputs is None else inputs
        taps = {self.source.tap: x}
        x, _ = self.run_stages(x, taps, ctx, seeds, point_values, until=until)
        return self.finish(taps, x, ctx)
