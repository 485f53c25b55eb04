"""Training objectives: what a training stage minimises (its ``loss``), as registered components.

An objective validates itself against the curve and the training stage (``check``) and builds
the loss of one batch (``build``) from a :class:`TrainingRun`, the one interface through which an
objective sees the training in progress. The generic objectives here compare the link's output
with its input (``mse``, ``l1``), optionally plus a weighted term between two other taps. A
learned layer that owns its objective (a score model trained by score matching, a diffusion
model by noise prediction) declares it with ``trained_by`` on its stage parameters, and its
system's catalogue registers that objective; the generic objectives refuse to train such a layer.

Whatever the objective, the trainer adds the ``add_loss`` terms (Keras) of the trained layers'
calls in the step, e.g. a KL term a variational encoder adds.
"""
from abc import abstractmethod
from dataclasses import dataclass
from typing import Any, Callable, ClassVar, Literal

from pydantic import Field

from linksim.engine.registry import Params, register

__all__ = ["TrainingRun", "ObjectiveParams", "TapTerm", "MSEObjective", "L1Objective"]


@dataclass
class TrainingRun:
    """What an objective sees of the training in progress.

    Attributes
    ----------
    curve, stage : the curve's and the training stage's parameters
    link : linksim.engine.link.Link
    layers : dict tap → Keras layer, every learned stage of the curve
    bridge : callable ``(x_in, y, ctx) -> y`` or None
        What the stage's ``channel`` makes of the non-learned span in training.
    """

    curve: Any
    stage: Any
    link: Any
    layers: dict
    bridge: Callable | None

    @property
    def trained(self) -> frozenset:
        return frozenset(self.stage.train)

    def forward(self, images, no, snr_db, seed, point_values, until=None, head=None) -> dict:
        """The link on a training batch: the trained stages in training mode, the bridge at the end of
        the non-learned span between the learned stages.

        ``head``: the taps of the first stages from an earlier forward on the same batch and seed (its
        ``until`` output): the chain continues after the last of them. Those stages must leave nothing
        in the context that later stages read (``no_eff``). Same taps as
        :meth:`linksim.engine.link.Link.__call__`.
        """
        link = self.link
        ctx, seeds = link.begin(self.stage.batch_size, no, snr_db, seed)
        taps = {link.source.tap: images}
        x, done = images, 0
        if head:
            done = 1 + max(i for i, s in enumerate(link.stages) if s.tap in head)
            taps.update({link.stages[i].tap: head[link.stages[i].tap] for i in range(done)})
            x = taps[link.stages[done - 1].tap]
        span = link.digital_span() if self.bridge is not None else None
        run = dict(taps=taps, ctx=ctx, seeds=seeds, point_values=point_values, until=until, training=self.trained)
        if span is None or done > span[0]:
            x, _ = link.run_stages(x, start=done, **run)
            return link.finish(taps, x, ctx)
        x, stopped = link.run_stages(x, start=done, stop=span[0], **run)
        if not stopped:
            span_input = x
            x, stopped = link.run_stages(x, start=span[0], stop=span[1], **run)
            if not stopped or link.stages[span[1] - 1].tap == until:
                x = self.bridge(span_input, x, ctx)
                taps[link.stages[span[1] - 1].tap] = x
                if not stopped:
                    x, _ = link.run_stages(x, start=span[1], **run)
        return link.finish(taps, x, ctx)


class ObjectiveParams(Params):
    """Base of the objectives.

    ``needs_snr``: the stage draws a training SNR per batch (its ``snr`` is required unless the
    schedule is ``per_point``); ``uses_bridge``: the stage's ``channel`` applies;
    ``replays_head``: the loss takes ``head=`` (the stored taps of the frozen stages before the
    first trained one, see ``cache_head`` of a training stage) and passes it to
    :meth:`TrainingRun.forward`.
    """

    needs_snr: ClassVar[bool] = True
    uses_bridge: ClassVar[bool] = True
    replays_head: ClassVar[bool] = False

    def check(self, curve, stage) -> None:
        """Raise ``ValueError`` if this objective cannot train ``stage`` of ``curve``."""
        owned = [s for s in curve.stages if s.learned and s.tap_name in stage.train and s.trained_by not in (None, self.type)]
        if owned:
            raise ValueError(f"training stage {stage.name!r}: {owned[0].tap_name!r} is trained by its own objective; "
                             f"use 'loss: {owned[0].trained_by}'")

    @abstractmethod
    def build(self, run: TrainingRun) -> Callable:
        """``loss(images, no, snr_db, seed, point_values) -> scalar`` of one training batch (with
        ``head=None`` as well where ``replays_head``)."""


class TapTerm(Params):
    """An extra term ``weight · distance(output tap, target tap)`` with the objective's distance."""

    output: str = Field(min_length=1, max_length=64)
    target: str = Field(min_length=1, max_length=64)
    weight: float = Field(default=1.0, gt=0, le=1e6)


class _Distance(ObjectiveParams):
    """Distance between the link's input and output, plus an optional ``restoration`` term."""

    restoration: TapTerm | None = None

    replays_head: ClassVar[bool] = True

    def check(self, curve, stage):
        super().check(curve, stage)
        if self.restoration is not None:
            taps = [curve.source.tap_name] + [s.tap_name for s in curve.stages]
            for tap in (self.restoration.output, self.restoration.target):
                if tap not in taps:
                    raise ValueError(f"training stage {stage.name!r}: restoration reads tap {tap!r}; this curve has: {', '.join(taps)}")

    @abstractmethod
    def distance(self, x, y):
        """Scalar distance of two float32 tensors of one shape."""

    def build(self, run):
        import tensorflow as tf

        term = self.restoration

        def loss(images, no, snr_db, seed, point_values, head=None):
            taps = run.forward(images, no, snr_db, seed, point_values, head=head)
            value = self.distance(tf.cast(images, tf.float32), tf.cast(taps["output"], tf.float32))
            if term is not None:
                value += term.weight * self.distance(tf.cast(taps[term.target], tf.float32), tf.cast(taps[term.output], tf.float32))
            return value

        return loss


@register("objective", "mse")
class MSEObjective(_Distance):
    """Mean squared error between the link's input and output (plus ``restoration``)."""

    type: Literal["mse"]

    def distance(self, x, y):
        import tensorflow as tf

        return tf.reduce_mean(tf.square(x - y))


@register("objective", "l1")
class L1Objective(_Distance):
    """Mean absolute error between the link's input and output (plus ``restoration``)."""

    type: Literal["l1"]

    def distance(self, x, y):
        import tensorflow as tf

        return tf.reduce_mean(tf.abs(x - y))
