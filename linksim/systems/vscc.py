"""Catalogue of VSCC (:mod:`linksim.models.vscc`): the variational encoder with its KL prior and the
resampling decoder with its knowledge base.

The objectives are the generic ones: the reconstruction term is the ``mse`` objective, and the
encoder adds its KL term (eq. 10 for ``prior: channel``, eq. 11 for ``prior: standard``) with
Keras ``add_loss``, which the trainer includes. After training, the decoder's knowledge-base
variance σ²_KB is set to the mean of the encoder's (sent, i.e. power-normalised) variances over
the training samples, per latent element, and saved with the checkpoint.
"""
from typing import Annotated, ClassVar, Literal

from pydantic import Field

from linksim.engine.registry import register
from linksim.engine.stage import StageParams, make_stage

__all__ = ["VSCCEncoderParams", "VSCCDecoderParams"]
VOCABULARY = ("vscc",)  # words that name this system (tests/test_engine_boundaries.py)


class _VSCCCodecParams(StageParams):
    """Widths shared by the VSCC encoder and decoder."""

    channels: list[Annotated[int, Field(ge=1, le=4096)]] = Field(default=[32, 64, 128, 192], min_length=1, max_length=8)
    latent_channels: int = Field(default=16, ge=1, le=4096)
    learned: ClassVar[bool] = True

    def check(self, curve, data):
        side = data.sample_shape[0]
        if len(data.sample_shape) != 3 or side % 2 ** len(self.channels) or data.sample_shape[1] != side:
            raise ValueError(f"needs square images whose side is a multiple of 2^{len(self.channels)} (one halving per width "
                             f"in 'channels'), got samples of shape {data.sample_shape}")

    def _widths(self, context):
        return dict(channels=self.channels, latent_channels=self.latent_channels, image_size=context.sample_shape[0],
                    name=self.tap_name)


@register("stage", "vscc_encoder")
class VSCCEncoderParams(_VSCCCodecParams):
    """VSCC encoder (linksim.models.vscc.VSCCEncoder): images → sent latent [batch, n] (``send: moments``: [batch, 2n]) float32,
    n = H·W·k / 4^levels; adds the KL of ``prior`` (channel: eq. 10 with CMC ``d``; standard: eq. 11; none: AE) in training."""

    type: Literal["vscc_encoder"]
    mid_blocks: int = Field(default=3, ge=1, le=64)
    prior: Literal["channel", "standard", "none"] = "channel"
    d: float = Field(default=1.0, gt=0, le=1e6)
    kl_weight: float = Field(default=1.0, ge=0, le=1e6)
    send: Literal["mean", "moments"] = "mean"
    variance_form: Literal["variance", "std", "log_variance"] = "variance"
    power_normalization: Literal["none", "unit"] = "none"
    resample: bool = True

    tap_default: ClassVar[str] = "sent"
    evaluation_only: ClassVar[tuple[str, ...]] = ("variance_form",)  # training decodes the sample μ + σε, never the sent variance

    def build(self, context):
        from linksim.models.vscc import VSCCEncoder

        layer = VSCCEncoder(mid_blocks=self.mid_blocks, prior=self.prior, d=self.d, kl_weight=self.kl_weight, send=self.send,
                            power_normalization=self.power_normalization, resample=self.resample, variance_form=self.variance_form,
                            **self._widths(context))
        return make_stage(self, layer, lambda x, ctx: layer(x, no=ctx.no, training=ctx.training, seed=ctx.seed), learned=True)


@register("stage", "vscc_decoder")
class VSCCDecoderParams(_VSCCCodecParams):
    """VSCC decoder (linksim.models.vscc.VSCCDecoder): received latent → resampled (none | kb | tx) → images [batch, H, W, 3]."""

    type: Literal["vscc_decoder"]
    mid_blocks: int = Field(default=2, ge=1, le=64)
    resample: Literal["none", "kb", "tx"] = "kb"
    variance_form: Literal["variance", "std", "log_variance"] = "variance"

    tap_default: ClassVar[str] = "reconstruction"
    evaluation_only: ClassVar[tuple[str, ...]] = ("variance_form",)

    def build(self, context):
        from linksim.models.vscc import VSCCDecoder

        layer = VSCCDecoder(mid_blocks=self.mid_blocks, resample=self.resample, variance_form=self.variance_form, **self._widths(context))
        return make_stage(self, layer, lambda x, ctx: layer(x, training=ctx.training, seed=ctx.seed), learned=True)

    def check(self, curve, data):
        super().check(curve, data)
        encoders = [s for s in curve.stages if isinstance(s, VSCCEncoderParams)]
        sends = "moments" if self.resample == "tx" else "mean"
        if encoders and encoders[0].send != sends:
            raise ValueError(f"'resample: {self.resample}' reads what an encoder with 'send: {sends}' sends; "
                             f"the vscc_encoder has 'send: {encoders[0].send}'")
        if encoders and self.resample == "tx" and encoders[0].variance_form != self.variance_form:
            raise ValueError(f"'variance_form: {self.variance_form}' must be the vscc_encoder's ('{encoders[0].variance_form}')")

    def calibrate(self, layer, layers, samples):
        """σ²_KB = the mean over the training samples of the variances the encoder sends, per latent element."""
        import tensorflow as tf

        from linksim.models.vscc import VSCCEncoder

        encoders = [e for e in layers.values() if isinstance(e, VSCCEncoder)]
        if not encoders:
            return
        encoder = encoders[0]
        total, count = tf.zeros([layer.num_values], tf.float64), 0
        for images in samples():
            mean, log_variance = encoder.moments(images)
            _, log_variance = encoder.normalised(mean, log_variance)
            total += tf.reduce_sum(tf.exp(tf.cast(log_variance, tf.float64)), axis=0)
            count += int(tf.shape(images)[0])
        layer.kb_variance.assign(tf.cast(total / count, tf.float32))
