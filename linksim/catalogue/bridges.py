"""Training bridges: how gradients cross the non-differentiable span between two learned stages.

The span is the chain of non-learned stages between the first and the last learned stage of a
link (quantizer … dequantizer, see :func:`linksim.engine.stage.digital_span`). In training the link
runs it forward and hands its output, with the span's input, to the training stage's bridge
(its ``channel``), which decides what the next learned stage reads:

- ``phy``: the real span output, with the gradient passed straight through
  (``x + stop_gradient(span(x) − x)``); ``flip_probability`` fixes the per-point parameter of
  that name (a BSC's p) instead of the training SNR's value;
- ``surrogate``: the span's input plus soft-quantization noise of the span's first quantizer
  step (:class:`linksim.phy.quantization.SoftQuantizationNoise`): differentiable, no bit errors;
- ``analog``: the span's input (the span is skipped: feature extraction before any digital
  processing).

Every bridge may also erase a ``mask_ratio`` fraction of what it hands over, at random, writing
``mask_value`` there (default 0; :func:`linksim.phy.channels.random_erasure`), which trains the
receiver against missing features.
"""
from abc import abstractmethod
from typing import Literal

from pydantic import Field

from linksim.engine.registry import Params, register
from linksim.engine.stage import digital_span

__all__ = ["BridgeParams", "PhyBridge", "AnalogBridge", "SurrogateBridge"]


class BridgeParams(Params):
    """Base of the bridges: ``mask_ratio`` erases that fraction of the span's output, writing
    ``mask_value`` in its place."""

    mask_ratio: float = Field(default=0.0, ge=0, lt=1)
    mask_value: float = Field(default=0.0, ge=-1e12, le=1e12)

    def check(self, curve, stage) -> None:
        """Raise ``ValueError`` if this bridge cannot serve ``stage`` of ``curve``."""

    def point_overrides(self) -> dict:
        """``{point parameter name: value}`` fixed in training instead of the SNR's value."""
        return {}

    @abstractmethod
    def passed(self, curve):
        """``(x_in, y, ctx) -> y'``: what the next learned stage reads, given the span's input and output."""

    def build(self, curve):
        """The bridge function the link applies at the end of the span, erasures included."""
        import tensorflow as tf

        from linksim.phy.channels import random_erasure

        passed = self.passed(curve)
        if self.mask_ratio == 0:
            return passed
        ratio, value = self.mask_ratio, self.mask_value
        return lambda x_in, y, ctx: random_erasure(passed(x_in, y, ctx), ratio, tf.random.experimental.stateless_fold_in(ctx.seed, 1), value)


@register("bridge", "phy")
class PhyBridge(BridgeParams):
    """The real span forward, the gradient straight through; ``flip_probability`` fixes the stages' p."""

    type: Literal["phy"]
    flip_probability: float | None = Field(default=None, ge=0, le=1)

    def check(self, curve, stage):
        if self.flip_probability is not None and not any(s.point_parameter == "flip_probability" for s in curve.stages):
            raise ValueError(f"training stage {stage.name!r}: 'flip_probability' needs a stage with a flip probability "
                             "(bsc) in the curve")

    def point_overrides(self):
        return {} if self.flip_probability is None else {"flip_probability": self.flip_probability}

    def passed(self, curve):
        import tensorflow as tf

        return lambda x_in, y, ctx: x_in + tf.stop_gradient(tf.cast(y, x_in.dtype) - x_in)


@register("bridge", "analog")
class AnalogBridge(BridgeParams):
    """The span skipped: the next learned stage reads the span's input."""

    type: Literal["analog"]

    def passed(self, curve):
        return lambda x_in, y, ctx: x_in


@register("bridge", "surrogate")
class SurrogateBridge(BridgeParams):
    """Soft quantization: the span's input plus uniform noise over one quantizer step, or Gaussian
    noise of ``alpha`` steps standard deviation (``noise: gaussian``)."""

    type: Literal["surrogate"]
    noise: Literal["uniform", "gaussian"] = "uniform"
    alpha: float = Field(default=0.5, gt=0, le=1e3)

    def _step(self, curve):
        span = digital_span([s.learned for s in curve.stages])
        steps = [curve.stages[i].quantization_step() for i in range(*span)] if span else []
        steps = [s for s in steps if s is not None]
        return steps[0] if steps else None

    def check(self, curve, stage):
        if self._step(curve) is None:
            raise ValueError(f"training stage {stage.name!r}: channel 'surrogate' needs a quantizer between the learned stages")

    def passed(self, curve):
        from linksim.phy.quantization import SoftQuantizationNoise

        step = self._step(curve)
        noise = SoftQuantizationNoise(kind=self.noise, step=step, alpha=self.alpha * step)
        return lambda x_in, y, ctx: noise(x_in, training=True, seed=ctx.seed)
