"""Catalogue of the generic learned conv codec (:mod:`linksim.models.conv`), the quickstart's link."""
from typing import ClassVar, Literal

from pydantic import Field

from linksim.engine.registry import register
from linksim.engine.stage import StageParams, layer_stage

__all__ = ["ConvEncoderParams", "ConvDecoderParams"]
VOCABULARY = ()  # words that name this system (tests/test_engine_boundaries.py)


class _ConvCodecParams(StageParams):
    """Hyper-parameters shared by the conv encoder and decoder."""

    latent_channels: int = Field(default=8, ge=1, le=1024)
    filters: int = Field(default=64, ge=1, le=4096)
    learned: ClassVar[bool] = True


@register("stage", "conv_encoder")
class ConvEncoderParams(_ConvCodecParams):
    """Learned conv encoder (linksim.models.conv.ConvEncoder): images → latent in [0, 1], [batch, H/4·W/4·C]."""

    type: Literal["conv_encoder"]
    tap_default: ClassVar[str] = "latent"

    def build(self, context):
        from linksim.models.conv import ConvEncoder

        layer = ConvEncoder(latent_channels=self.latent_channels, filters=self.filters, name=self.tap_name)
        return layer_stage(self, layer)


@register("stage", "conv_decoder")
class ConvDecoderParams(_ConvCodecParams):
    """Learned conv decoder (linksim.models.conv.ConvDecoder): latent → images [batch, H, W, 3] in [0, 1]."""

    type: Literal["conv_decoder"]
    tap_default: ClassVar[str] = "reconstruction"

    def build(self, context):
        from linksim.models.conv import ConvDecoder

        layer = ConvDecoder(image_size=context.sample_shape[0], latent_channels=self.latent_channels, filters=self.filters,
                            name=self.tap_name)
        return layer_stage(self, layer)
