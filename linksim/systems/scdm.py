"""Catalogue of JCM + SCDM (:mod:`linksim.models.jcm`, :mod:`linksim.models.scdm`): the JCM codec (as published, and a
light one), the score-based channel denoiser, the posterior-mean baseline and the score-matching
objective that trains the denoiser."""
from typing import Annotated, ClassVar, Literal

from pydantic import Field, model_validator

from linksim.catalogue.objectives import ObjectiveParams
from linksim.engine.registry import register
from linksim.engine.stage import MODULATION, StageParams, layer_stage, make_stage

__all__ = ["JCMEncoderParams", "JCMDecoderParams", "SmallJCMEncoderParams", "SmallJCMDecoderParams", "SCDMDenoiserParams",
           "PosteriorMeanParams", "ScoreMatching"]
VOCABULARY = ("scdm", "jcm", "cddm")  # words that name this system (tests/test_engine_boundaries.py)


class _EncoderParams(StageParams):
    """What the stages after an encoder need of it: its modulation and channel uses."""

    modulation: MODULATION = "qam64"
    num_symbols: int = Field(default=128, ge=1, le=2**20)
    learned: ClassVar[bool] = True
    tap_default: ClassVar[str] = "symbols"


@register("stage", "jcm_encoder")
class JCMEncoderParams(_EncoderParams):
    """JCM's published encoder (linksim.models.jcm.JCMResNetEncoder): images [batch, H, W, 3] (H = W a multiple of 8) →
    n unit-power Gray QAM/PAM/BPSK symbols [batch, n] complex64. A ResNet with BatchNorm and PReLU to an (H/8, W/8)
    map, fully connected logits, Gumbel-softmax at ``temperature`` (JCM's 1.5), sampled in evaluation too as JCM's
    code does (``stochastic: false``: the most likely point). ``analog``: JCM's pre-training network, the map's
    mean sent as unit-power complex values (a digital curve starts from it with ``init_from``)."""

    type: Literal["jcm_encoder"]
    temperature: float = Field(default=1.5, gt=0, le=100)
    analog: bool = False
    stochastic: bool = True

    def check(self, curve, data):
        _check_image_side(data, 8)

    def build(self, context):
        from linksim.models.jcm import JCMResNetEncoder

        layer = JCMResNetEncoder(image_size=context.sample_shape[0], num_symbols=self.num_symbols, modulation=self.modulation,
                                 temperature=self.temperature, analog=self.analog, stochastic=self.stochastic, name=self.tap_name)
        return make_stage(self, layer, lambda x, ctx: layer(x, training=ctx.training, seed=ctx.seed), learned=True)


@register("stage", "jcm_decoder")
class JCMDecoderParams(StageParams):
    """JCM's published reconstruction decoder (linksim.models.jcm.JCMResNetDecoder): received symbols [batch, n] complex64
    → images [batch, H, W, 3]; ``modulation`` and ``num_symbols`` as the encoder's (A·n values fill the (H/8)² map)."""

    type: Literal["jcm_decoder"]
    modulation: MODULATION = "qam64"
    num_symbols: int = Field(default=128, ge=1, le=2**20)

    tap_default: ClassVar[str] = "reconstruction"
    learned: ClassVar[bool] = True

    def check(self, curve, data):
        _check_image_side(data, 8)
        _check_matches_encoder(self, curve)

    def build(self, context):
        from linksim.models.jcm import JCMResNetDecoder

        layer = JCMResNetDecoder(image_size=context.sample_shape[0], num_symbols=self.num_symbols, modulation=self.modulation,
                                 name=self.tap_name)
        return layer_stage(self, layer)


class _SmallCodecParams(StageParams):
    filters: int = Field(default=64, ge=1, le=4096)


@register("stage", "jcm_small_encoder")
class SmallJCMEncoderParams(_EncoderParams, _SmallCodecParams):
    """A light JCM-style encoder (linksim.models.jcm.SmallJCMEncoder): two strided convolutions and a residual block,
    1×1 conv logits, Gumbel-softmax straight-through in training, the most likely point in evaluation;
    images → [batch, n] complex64 unit-power symbols."""

    type: Literal["jcm_small_encoder"]
    temperature: float = Field(default=1.0, gt=0, le=100)

    def build(self, context):
        from linksim.models.jcm import SmallJCMEncoder

        layer = SmallJCMEncoder(image_size=context.sample_shape[0], num_symbols=self.num_symbols, modulation=self.modulation,
                                filters=self.filters, temperature=self.temperature, name=self.tap_name)
        return make_stage(self, layer, lambda x, ctx: layer(x, training=ctx.training, seed=ctx.seed), learned=True)


@register("stage", "jcm_small_decoder")
class SmallJCMDecoderParams(_SmallCodecParams):
    """Mirror of jcm_small_encoder (linksim.models.jcm.SmallJCMDecoder): received symbols [batch, n] complex64 → images [batch, H, W, 3]."""

    type: Literal["jcm_small_decoder"]
    num_symbols: int = Field(default=128, ge=1, le=2**20)

    tap_default: ClassVar[str] = "reconstruction"
    learned: ClassVar[bool] = True

    def build(self, context):
        from linksim.models.jcm import SmallJCMDecoder

        layer = SmallJCMDecoder(image_size=context.sample_shape[0], num_symbols=self.num_symbols, filters=self.filters, name=self.tap_name)
        return layer_stage(self, layer)


def _check_image_side(data, multiple):
    side = data.sample_shape[0]
    if side % multiple:
        raise ValueError(f"needs images whose side is a multiple of {multiple}, got {side}")


def _check_matches_encoder(stage, curve):
    """A stage reading an encoder's symbols must state the encoder's modulation and channel uses."""
    encoders = [s for s in curve.stages if isinstance(s, _EncoderParams)]
    if not encoders:
        raise ValueError("needs a jcm_encoder or jcm_small_encoder before it")
    if (encoders[0].modulation, encoders[0].num_symbols) != (stage.modulation, stage.num_symbols):
        raise ValueError(f"'modulation' and 'num_symbols' must be the encoder's ({encoders[0].modulation}, {encoders[0].num_symbols})")


@register("stage", "scdm_denoiser")
class SCDMDenoiserParams(StageParams):
    """SCDM score-based denoiser (linksim.models.scdm.SCDMDenoiser) of received unit-power symbols
    [batch, n] complex64: predictor-corrector sampling from the level of the point's N0.
    Trained by a ``loss: dsm`` training stage (:class:`ScoreMatching`); n must be a multiple of 8."""

    type: Literal["scdm_denoiser"]
    channels: list[Annotated[int, Field(ge=1, le=4096)]] = Field(default=[24, 32, 48], min_length=3, max_length=3)
    heads: int = Field(default=4, ge=1, le=64)
    embedding: int = Field(default=64, ge=2, le=4096, multiple_of=2)
    sigma_min: float = Field(default=0.01, gt=0, le=1e6)
    sigma_max: float = Field(default=10.0, gt=0, le=1e6)
    num_levels: int = Field(default=64, ge=2, le=10_000)
    num_corrector: int = Field(default=2, ge=0, le=100)
    r: float = Field(default=0.16, gt=0, le=10)
    final_denoise: bool = False  # Tweedie's noise-free last step (score_sde), not in SCDM's Algorithm 2
    corrector_step: Literal["algorithm2", "score_sde"] = "algorithm2"  # ξ as Algorithm 2 writes it, or score_sde's rule
    corrector_min_sigma: float = Field(default=0.0, ge=0, le=1e6)  # Langevin steps only at levels with σ ≥ this

    tap_default: ClassVar[str] = "denoised"
    learned: ClassVar[bool] = True
    trained_by: ClassVar[str] = "dsm"
    added_later: ClassVar[dict] = {"corrector_step": "algorithm2", "corrector_min_sigma": 0.0}

    @model_validator(mode="after")
    def _sigma_range(self):
        if not self.sigma_max > self.sigma_min:
            raise ValueError("'sigma_max' must be greater than 'sigma_min'")
        return self

    def build(self, context):
        from linksim.models.scdm import SCDMDenoiser

        layer = SCDMDenoiser(channels=self.channels, heads=self.heads, embedding=self.embedding, sigma_min=self.sigma_min,
                             sigma_max=self.sigma_max, num_levels=self.num_levels, num_corrector=self.num_corrector, r=self.r,
                             final_denoise=self.final_denoise, corrector_step=self.corrector_step,
                             corrector_min_sigma=self.corrector_min_sigma, name=self.tap_name)
        return make_stage(self, layer, lambda x, ctx: layer(x, ctx.no, seed=ctx.seed), learned=True)


@register("stage", "posterior_mean")
class PosteriorMeanParams(StageParams):
    """Posterior mean of the received symbols [batch, n] complex64 under the histogram of the points the curve's
    jcm_encoder sends on the training samples (linksim.models.scdm.HistogramPosteriorMean): the network-free baseline of
    a channel denoiser. The histogram is counted after training (or with ``init_from`` alone) and kept with the
    checkpoint; ``per_position``: one histogram per channel use."""

    type: Literal["posterior_mean"]
    modulation: MODULATION = "qam64"
    num_symbols: int = Field(default=128, ge=1, le=2**20)
    per_position: bool = False

    tap_default: ClassVar[str] = "denoised"
    learned: ClassVar[bool] = True  # holds statistics of the training set (no trainable weights)

    def check(self, curve, data):
        _check_matches_encoder(self, curve)

    def build(self, context):
        from linksim.models.scdm import HistogramPosteriorMean

        layer = HistogramPosteriorMean(self.modulation, self.num_symbols, self.per_position, name=self.tap_name)
        return make_stage(self, layer, lambda x, ctx: layer(x, ctx.no), learned=True)

    def calibrate(self, layer, layers, samples):
        """Count the points the encoder sends (in evaluation mode) on every training sample."""
        from linksim.models.jcm import QAMEncoder

        encoder = next(e for e in layers.values() if isinstance(e, QAMEncoder))
        layer.reset()
        for images in samples():
            layer.accumulate(encoder(images, training=False))


@register("objective", "dsm")
class ScoreMatching(ObjectiveParams):
    """Denoising score matching of one ``scdm_denoiser`` on the clean symbols that reach it: the
    output of the learned stage before it (``symbols: encoder``), or i.i.d. uniform constellation
    points of that ``jcm_encoder`` (``symbols: uniform``, the ablation that shows where a
    denoiser's gain comes from). Needs no training SNR and no bridge."""

    type: Literal["dsm"]
    symbols: Literal["encoder", "uniform"] = "encoder"

    needs_snr: ClassVar[bool] = False
    uses_bridge: ClassVar[bool] = False

    def check(self, curve, stage):
        super().check(curve, stage)
        scored = [s for s in curve.stages if isinstance(s, SCDMDenoiserParams) and s.tap_name in stage.train]
        if len(stage.train) != 1 or len(scored) != 1:
            raise ValueError(f"training stage {stage.name!r}: 'loss: dsm' trains exactly one score model (an scdm_denoiser stage)")
        index = curve.stages.index(scored[0])
        before = [s for s in curve.stages[:index] if s.learned]
        if not before:
            raise ValueError(f"training stage {stage.name!r}: 'loss: dsm' needs a learned stage (the encoder) before the denoiser")
        if self.symbols == "uniform" and not isinstance(before[-1], _EncoderParams):
            raise ValueError(f"training stage {stage.name!r}: 'symbols: uniform' needs a jcm_encoder or jcm_small_encoder before the denoiser")

    def build(self, run):
        import tensorflow as tf

        score_tap = run.stage.train[0]
        index = [s.tap_name for s in run.curve.stages].index(score_tap)
        clean_tap = [s for s in run.curve.stages[:index] if s.learned][-1].tap_name  # the encoder before the denoiser

        def loss(images, no, snr_db, seed, point_values):
            symbols_seed, loss_seed = tf.unstack(tf.random.split(seed, 2))
            if self.symbols == "uniform":
                clean = run.layers[clean_tap].uniform_symbols(tf.shape(images)[0], symbols_seed)
            else:
                taps = run.link(run.stage.batch_size, no, snr_db, symbols_seed, point_values, inputs=images,
                                until=clean_tap)
                clean = tf.stop_gradient(taps[clean_tap])
            return run.layers[score_tap].dsm_loss(clean, loss_seed)

        return loss
