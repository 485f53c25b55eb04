"""Catalogue of AMP-SC (:mod:`linksim.models.amp_sc`): its encoder, decoder and restoration network.

AMP-SC's training recipe needs nothing system-specific from the engine: its steps are training
stages with the generic ``l1`` objective (``restoration`` for eq. 17's feature term) and the
generic bridges (``phy`` with ``flip_probability``, ``surrogate`` with Gaussian noise,
``analog``; ``mask_ratio`` is the mask attack, MATK).
"""
from typing import ClassVar, Literal

from pydantic import Field, model_validator

from linksim.engine.registry import register
from linksim.engine.stage import StageParams, layer_stage

__all__ = ["AMPEncoderParams", "AMPDecoderParams", "IRSNetParams"]
VOCABULARY = ("amp_sc", "amp-sc", "irsnet", "matk", "he22", "softhe22")  # words that name this system (tests/test_engine_boundaries.py)


class _AMPGeometryParams(StageParams):
    """Latent geometry and width shared by the AMP-SC encoder, decoder and IRSNet; ``style``: the
    blocks of :mod:`linksim.models.amp_sc` (``symmetric``, or ``public`` as the authors' code)."""

    latent_channels: int = Field(default=8, ge=1, le=4096)
    filters: int = Field(default=64, ge=1, le=4096)
    kernel_size: int = Field(default=3, ge=1, le=15)
    downsamplings: int = Field(default=2, ge=1, le=8)
    extraction: int = Field(default=3, ge=0, le=64)
    style: Literal["symmetric", "public"] = "symmetric"
    learned: ClassVar[bool] = True
    fully_convolutional: ClassVar[bool] = True
    added_later: ClassVar[dict] = {"style": "symmetric"}

    def _geometry(self, context):
        return dict(image_size=tuple(context.sample_shape[:2]), latent_channels=self.latent_channels, filters=self.filters,
                    kernel_size=self.kernel_size, downsamplings=self.downsamplings, extraction=self.extraction, style=self.style,
                    name=self.tap_name)


@register("stage", "amp_encoder")
class AMPEncoderParams(_AMPGeometryParams):
    """AMP-SC encoder (linksim.models.amp_sc.AMPEncoder): images → features in [−½, 2^num_bits − ½], [batch, n] float32."""

    type: Literal["amp_encoder"]
    num_bits: int = Field(default=4, ge=1, le=16)

    tap_default: ClassVar[str] = "features"

    def build(self, context):
        from linksim.models.amp_sc import AMPEncoder

        layer = AMPEncoder(num_bits=self.num_bits, **self._geometry(context))
        return layer_stage(self, layer)


@register("stage", "amp_decoder")
class AMPDecoderParams(_AMPGeometryParams):
    """AMP-SC decoder (linksim.models.amp_sc.AMPDecoder): features [batch, n] → images [batch, H, W, 3]."""

    type: Literal["amp_decoder"]

    tap_default: ClassVar[str] = "reconstruction"

    def build(self, context):
        from linksim.models.amp_sc import AMPDecoder

        layer = AMPDecoder(**self._geometry(context))
        return layer_stage(self, layer, to_float=True)


@register("stage", "irsnet")
class IRSNetParams(_AMPGeometryParams):
    """AMP-SC information restoration U-Net (linksim.models.amp_sc.IRSNet): received features → restored features [batch, n]."""

    type: Literal["irsnet"]
    filters: int = Field(default=32, ge=1, le=4096)

    tap_default: ClassVar[str] = "restored"

    @model_validator(mode="after")
    def _public_widths(self):
        defaults = {name: type(self).model_fields[name].default for name in ("filters", "kernel_size")}
        given = sorted(name for name, default in defaults.items() if getattr(self, name) != default)  # by value: resolved scenarios re-validate
        if self.style == "public" and given:
            raise ValueError(f"the public style's IRSNet takes its widths (2C, 4C, 8C) from 'latent_channels' and 3×3 kernels: "
                             f"remove {' and '.join(repr(g) for g in given)}")
        return self

    def build(self, context):
        from linksim.models.amp_sc import IRSNet

        layer = IRSNet(**self._geometry(context))
        return layer_stage(self, layer, to_float=True)
