"""Catalogue of sources and PHY stages that scenarios name by ``type``.

Each class is the validated parameter set of one component; ``build(link_info)`` returns a
:class:`linksim.link.Stage` wrapping the Sionna block. TensorFlow and ``phy`` are imported
inside ``build`` so that validating a scenario stays fast and quiet.
"""
from typing import Annotated, ClassVar, Literal

from pydantic import Field, model_validator

from linksim.registry import Params, register

MODULATION = Literal["bpsk", "pam4", "pam8", "qpsk", "qam16", "qam64", "qam256"]
LABELLING = Literal["gray", "natural"]


class StageParams(Params):
    """Common fields: ``tap`` renames the output (default per type)."""

    tap: str | None = Field(default=None, min_length=1, max_length=64)

    tap_default: ClassVar[str] = "output"
    learned: ClassVar[bool] = False  # a Keras layer with trainable weights
    score_model: ClassVar[bool] = False  # trained by denoising score matching (loss: dsm)
    draws_uniform_symbols: ClassVar[bool] = False  # can stand in i.i.d. uniform symbols for its output

    @property
    def tap_name(self) -> str:
        return self.tap or self.tap_default

    def bits_per_symbol(self) -> int | None:
        """Bits per channel symbol if this stage is a mapper."""
        return None


def _layer_stage(params, layer, to_float=False):
    """A learned Keras layer called as ``layer(x, training=...)``; ``to_float`` casts integer-valued inputs."""
    import tensorflow as tf

    def apply(x, ctx):
        return layer(tf.cast(x, tf.float32) if to_float else x, training=ctx.training)

    return _stage(params, layer, apply, learned=True)


def _stage(params, block, apply, point_value=None, uses_global_rng=False, learned=False):
    from linksim.link import Stage

    return Stage(name=params.type, tap=params.tap_name, block=block, apply=apply, point_value=point_value,
                 uses_global_rng=uses_global_rng, learned=learned)


# ---------------------------------------------------------------------------------- sources
@register("source", "bits")
class BitsSource(StageParams):
    """i.i.d. fair bits, ``num_bits`` per block: [batch, num_bits] float32."""

    type: Literal["bits"]
    num_bits: int = Field(gt=0, le=2**24)

    tap_default: ClassVar[str] = "bits"

    def block_size(self, data) -> int:
        return self.num_bits

    def build(self, info):
        from phy.sources import random_bits

        return _stage(self, None, lambda _, ctx: random_bits(ctx.batch_size, self.num_bits, ctx.seed))


@register("source", "labels")
class LabelsSource(StageParams):
    """Uniform integer labels in [0, num_classes): [batch, num_labels] int32."""

    type: Literal["labels"]
    num_labels: int = Field(gt=0, le=2**24)
    num_classes: int = Field(ge=2, le=2**16)

    tap_default: ClassVar[str] = "labels"

    def block_size(self, data) -> int:
        return self.num_labels

    def build(self, info):
        import tensorflow as tf

        def apply(_, ctx):
            return tf.random.stateless_uniform([ctx.batch_size, self.num_labels], ctx.seed, minval=0, maxval=self.num_classes, dtype=tf.int32)

        return _stage(self, None, apply)


@register("source", "gaussian")
class GaussianSource(StageParams):
    """Real Gaussian latents N(0, std²): [batch, size] float32 (analog links)."""

    type: Literal["gaussian"]
    size: int = Field(gt=0, le=2**24)
    std: float = Field(default=1.0, gt=0, le=1e12)

    tap_default: ClassVar[str] = "latent"

    def block_size(self, data) -> int:
        return self.size

    def build(self, info):
        import tensorflow as tf

        def apply(_, ctx):
            return self.std * tf.random.stateless_normal([ctx.batch_size, self.size], ctx.seed)

        return _stage(self, None, apply)


@register("source", "images")
class ImagesSource(StageParams):
    """Images of the scenario's dataset, in order: [batch, H, W, 3] float32 in [0, 1].

    Chunk k holds images k·batch … k·batch + batch − 1 of the split (cycling); rows past
    ``max_samples`` are marked invalid, so ``max_samples`` = the split's size evaluates each
    image exactly once per point.
    """

    type: Literal["images"]
    split: Literal["test", "train"] = "test"

    tap_default: ClassVar[str] = "images"

    def block_size(self, data) -> int:
        return 3 * data.patch_size**2

    def build(self, info):
        import tensorflow as tf

        from linksim.data import load_split

        images = load_split(info.data, self.split, info.seed).images
        store = tf.Variable(images, trainable=False, name="images")  # a variable, not a graph constant

        def apply(_, ctx):
            rows = tf.cast(ctx.chunk, tf.int64) * ctx.batch_size + tf.range(ctx.batch_size, dtype=tf.int64)
            if ctx.max_samples is not None:
                ctx.valid = rows < ctx.max_samples
            batch = tf.gather(store, rows % len(images))
            return tf.cast(batch, tf.float32) / 255.0

        return _stage(self, store, apply)


# ---------------------------------------------------------------------------------- mapping
@register("stage", "mapper")
class MapperParams(StageParams):
    """Bits → unit-energy constellation symbols (Sionna Mapper): [batch, n/k] complex64."""

    type: Literal["mapper"]
    modulation: MODULATION
    labelling: LABELLING = "gray"

    tap_default: ClassVar[str] = "symbols"

    def bits_per_symbol(self):
        from phy.modulations import MODULATIONS

        return MODULATIONS[self.modulation].num_bits_per_symbol

    def build(self, info):
        from sionna.phy.mapping import Mapper

        from phy.constellations import make_constellation

        mapper = Mapper(constellation=make_constellation(self.modulation, labelling=self.labelling))
        return _stage(self, mapper, lambda x, ctx: mapper(x))


@register("stage", "demapper")
class DemapperParams(StageParams):
    """Sionna Demapper: LLRs (app or maxlog) or hard bits: [batch, n·k] float32."""

    type: Literal["demapper"]
    modulation: MODULATION
    labelling: LABELLING = "gray"
    method: Literal["app", "maxlog"] = "maxlog"
    hard: bool = False

    @property
    def tap_default(self):
        return "bits_hat" if self.hard else "llr"

    def build(self, info):
        from sionna.phy.mapping import Demapper

        from phy.constellations import make_constellation

        demapper = Demapper(self.method, constellation=make_constellation(self.modulation, labelling=self.labelling), hard_out=self.hard)
        return _stage(self, demapper, lambda y, ctx: demapper(y, ctx.demapper_no))


@register("stage", "slicer")
class SlicerParams(StageParams):
    """Exact hard bits by per-axis slicing (= maxlog hard decisions, O(1) per symbol)."""

    type: Literal["slicer"]
    modulation: MODULATION
    labelling: LABELLING = "gray"

    tap_default: ClassVar[str] = "bits_hat"

    def build(self, info):
        from phy.constellations import make_constellation
        from phy.demapping import SlicerDemapper

        slicer = SlicerDemapper(constellation=make_constellation(self.modulation, labelling=self.labelling))
        return _stage(self, slicer, lambda y, ctx: slicer(y))


@register("stage", "symbol_decision")
class SymbolDecisionParams(StageParams):
    """Nearest-point symbol decisions (Sionna SymbolDemapper, hard): [batch, n] int32."""

    type: Literal["symbol_decision"]
    modulation: MODULATION
    labelling: LABELLING = "gray"

    tap_default: ClassVar[str] = "symbol_indices_hat"

    def build(self, info):
        from sionna.phy.mapping import SymbolDemapper

        from phy.constellations import make_constellation

        demapper = SymbolDemapper(constellation=make_constellation(self.modulation, labelling=self.labelling), hard_out=True)
        return _stage(self, demapper, lambda y, ctx: demapper(y, ctx.demapper_no))


# ---------------------------------------------------------------------------------- channels
@register("stage", "awgn")
class AWGNParams(StageParams):
    """Complex AWGN with the point's noise variance N0 per symbol."""

    type: Literal["awgn"]

    tap_default: ClassVar[str] = "received"

    def build(self, info):
        from phy.channels import AWGN

        awgn = AWGN()
        return _stage(self, awgn, lambda x, ctx: awgn(x, ctx.no, seed=ctx.seed))


@register("stage", "real_awgn")
class RealAWGNParams(StageParams):
    """Real AWGN for analog latents, noise variance per real sample from the 'snr' convention."""

    type: Literal["real_awgn"]

    tap_default: ClassVar[str] = "received"

    def build(self, info):
        from phy.channels import RealAWGN

        awgn = RealAWGN()
        return _stage(self, awgn, lambda x, ctx: awgn(x, ctx.no, seed=ctx.seed))


@register("stage", "rayleigh")
class RayleighParams(StageParams):
    """Rayleigh block fading + AWGN with perfect-CSI equalisation (sets no_eff for demappers)."""

    type: Literal["rayleigh"]
    block_length: int = Field(default=1, gt=0, le=2**20)

    tap_default: ClassVar[str] = "equalized"

    def build(self, info):
        from phy.channels import RayleighBlockFading

        channel = RayleighBlockFading(block_length=self.block_length)

        def apply(x, ctx):
            y, ctx.no_eff = channel(x, ctx.no, seed=ctx.seed)
            return y

        return _stage(self, channel, apply)


@register("stage", "bsc")
class BSCParams(StageParams):
    """Binary symmetric channel (Sionna's): flip probability fixed, or the closed-form BER of ``modulation`` at the
    point's SNR. With both, ``error_probability`` is used and ``modulation`` only sets the bits per symbol of Eb/N0."""

    type: Literal["bsc"]
    error_probability: float | None = Field(default=None, ge=0, le=1)
    modulation: MODULATION | None = None

    @model_validator(mode="after")
    def _one_source_of_p(self):
        if self.error_probability is None and self.modulation is None:
            raise ValueError("give 'error_probability' or 'modulation' (or both)")
        return self

    tap_default: ClassVar[str] = "received_bits"

    def bits_per_symbol(self):
        # Eb/N0 of a BSC that stands for a modulation refers to that modulation's bits.
        if self.modulation is None:
            return None
        from phy.modulations import MODULATIONS

        return MODULATIONS[self.modulation].num_bits_per_symbol

    def flip_probability(self, snr_db: float, convention: str) -> float:
        """p at an SNR point: the fixed value, or the modulation's exact BER over AWGN."""
        if self.error_probability is not None:
            return self.error_probability
        from phy.ber_theory import ber_awgn

        if convention not in ("esno", "ebno"):
            raise ValueError("a BSC standing for a modulation needs the 'esno' or 'ebno' convention")
        return float(ber_awgn(self.modulation, snr_db, convention))

    def build(self, info):
        from phy.channels import BinarySymmetricChannel

        bsc = BinarySymmetricChannel()

        return _stage(
            self, bsc, lambda x, ctx: bsc(x, ctx.point_value),
            point_value=lambda snr_db: self.flip_probability(snr_db, info.convention),
            uses_global_rng=True,  # Sionna's BSC draws from sionna.phy.config.tf_rng
        )


@register("stage", "label_channel")
class LabelChannelParams(StageParams):
    """Discrete label channel: a C×C transition matrix, or symmetric errors with probability p."""

    type: Literal["label_channel"]
    transition: list[list[float]] | None = None
    num_classes: int | None = Field(default=None, ge=2, le=2**16)
    error_probability: float | None = Field(default=None, ge=0, le=1)

    @model_validator(mode="after")
    def _matrix_or_symmetric(self):
        if (self.transition is None) == (self.num_classes is None or self.error_probability is None):
            raise ValueError("give either 'transition' or both 'num_classes' and 'error_probability'")
        if self.transition is not None:
            import numpy as np

            t = np.asarray(self.transition, dtype=float) if all(len(r) == len(self.transition) for r in self.transition) else None
            if t is None or t.shape[0] < 2:
                raise ValueError("'transition' must be a square C×C matrix with C ≥ 2")
            if np.any(t < 0) or not np.allclose(t.sum(axis=1), 1, atol=1e-6):
                raise ValueError("'transition' rows must be non-negative and sum to 1")
        return self

    tap_default: ClassVar[str] = "received_labels"

    def build(self, info):
        from phy.channels import LabelChannel

        if self.transition is not None:
            channel = LabelChannel(transition=self.transition)
        else:
            channel = LabelChannel.symmetric(self.num_classes, self.error_probability)
        return _stage(self, channel, lambda x, ctx: channel(x, seed=ctx.seed))


# ---------------------------------------------------------------------------------- quantization
class _UniformLevels(StageParams):
    """The levels of a uniform quantizer: 2^num_bits values spanning [minval, maxval]."""

    num_bits: int = Field(ge=1, le=16)
    minval: float = Field(default=0.0, ge=-1e12, le=1e12)
    maxval: float = Field(default=1.0, ge=-1e12, le=1e12)

    @model_validator(mode="after")
    def _range(self):
        if not self.maxval > self.minval:
            raise ValueError("'maxval' must be greater than 'minval'")
        return self


@register("stage", "quantizer")
class QuantizerParams(_UniformLevels):
    """Uniform scalar quantizer: clip to [minval, maxval], round to 2^num_bits levels."""

    type: Literal["quantizer"]
    output: Literal["index", "value"] = "index"

    tap_default: ClassVar[str] = "quantized"

    def build(self, info):
        from phy.quantization import UniformQuantizer

        q = UniformQuantizer(num_bits=self.num_bits, minval=self.minval, maxval=self.maxval, output=self.output)
        return _stage(self, q, lambda x, ctx: q(x))


@register("stage", "dequantizer")
class DequantizerParams(_UniformLevels):
    """Integer level indices → level values of the uniform quantizer with the same parameters."""

    type: Literal["dequantizer"]

    tap_default: ClassVar[str] = "dequantized"

    def build(self, info):
        from phy.quantization import UniformQuantizer

        q = UniformQuantizer(num_bits=self.num_bits, minval=self.minval, maxval=self.maxval)
        return _stage(self, q, lambda x, ctx: q.dequantize(x))


@register("stage", "ad")
class ADParams(StageParams):
    """AD conversion: integers → num_bits bits each, MSB first, natural or Gray code."""

    type: Literal["ad"]
    num_bits: int = Field(ge=1, le=30)
    code: Literal["natural", "gray"] = "natural"

    tap_default: ClassVar[str] = "ad_bits"

    def build(self, info):
        from phy.quantization import IntegerToBits

        ad = IntegerToBits(num_bits=self.num_bits, code=self.code)
        return _stage(self, ad, lambda x, ctx: ad(x))


@register("stage", "da")
class DAParams(StageParams):
    """DA conversion: groups of num_bits bits (MSB first) → integers."""

    type: Literal["da"]
    num_bits: int = Field(ge=1, le=30)
    code: Literal["natural", "gray"] = "natural"

    tap_default: ClassVar[str] = "integers"

    def build(self, info):
        from phy.quantization import BitsToInteger

        da = BitsToInteger(num_bits=self.num_bits, code=self.code)
        return _stage(self, da, lambda x, ctx: da(x))


# ---------------------------------------------------------------------------------- learned
class _ConvCodecParams(StageParams):
    """Hyper-parameters shared by the conv encoder and decoder."""

    latent_channels: int = Field(default=8, ge=1, le=1024)
    filters: int = Field(default=64, ge=1, le=4096)
    learned: ClassVar[bool] = True


@register("stage", "conv_encoder")
class ConvEncoderParams(_ConvCodecParams):
    """Learned conv encoder (models.conv.ConvEncoder): images → latent in [0, 1], [batch, H/4·W/4·C]."""

    type: Literal["conv_encoder"]
    tap_default: ClassVar[str] = "latent"

    def build(self, info):
        from models.conv import ConvEncoder

        layer = ConvEncoder(latent_channels=self.latent_channels, filters=self.filters, name=self.tap_name)
        return _layer_stage(self, layer)


@register("stage", "conv_decoder")
class ConvDecoderParams(_ConvCodecParams):
    """Learned conv decoder (models.conv.ConvDecoder): latent → images [batch, H, W, 3] in [0, 1]."""

    type: Literal["conv_decoder"]
    tap_default: ClassVar[str] = "reconstruction"

    def build(self, info):
        from models.conv import ConvDecoder

        layer = ConvDecoder(image_size=info.data.patch_size, latent_channels=self.latent_channels, filters=self.filters,
                            name=self.tap_name)
        return _layer_stage(self, layer)


class _JCMCodecParams(StageParams):
    """Hyper-parameters shared by the JCM encoder and decoder."""

    num_symbols: int = Field(default=128, ge=1, le=2**20)
    filters: int = Field(default=64, ge=1, le=4096)
    learned: ClassVar[bool] = True


@register("stage", "jcm_encoder")
class JCMEncoderParams(_JCMCodecParams):
    """JCM encoder (models.jcm.JCMEncoder): images → n unit-power Gray QAM/PAM/BPSK symbols [batch, n] complex64
    (Gumbel-softmax straight-through in training, most likely point in evaluation)."""

    type: Literal["jcm_encoder"]
    modulation: MODULATION = "qam64"
    temperature: float = Field(default=1.0, gt=0, le=100)

    tap_default: ClassVar[str] = "symbols"
    draws_uniform_symbols: ClassVar[bool] = True

    def build(self, info):
        from models.jcm import JCMEncoder

        layer = JCMEncoder(image_size=info.data.patch_size, num_symbols=self.num_symbols, modulation=self.modulation,
                           filters=self.filters, temperature=self.temperature, name=self.tap_name)
        return _stage(self, layer, lambda x, ctx: layer(x, training=ctx.training, seed=ctx.seed), learned=True)


@register("stage", "jcm_decoder")
class JCMDecoderParams(_JCMCodecParams):
    """JCM decoder (models.jcm.JCMDecoder): received symbols [batch, n] complex64 → images [batch, H, W, 3]."""

    type: Literal["jcm_decoder"]

    tap_default: ClassVar[str] = "reconstruction"

    def build(self, info):
        from models.jcm import JCMDecoder

        layer = JCMDecoder(image_size=info.data.patch_size, num_symbols=self.num_symbols, filters=self.filters, name=self.tap_name)
        return _layer_stage(self, layer)


@register("stage", "scdm_denoiser")
class SCDMDenoiserParams(StageParams):
    """SCDM score-based denoiser (models.scdm.SCDMDenoiser) of received unit-power symbols
    [batch, n] complex64: predictor-corrector sampling from the level of the point's N0.
    Trained by a ``loss: dsm`` training stage; n must be a multiple of 8."""

    type: Literal["scdm_denoiser"]
    channels: list[Annotated[int, Field(ge=1, le=4096)]] = Field(default=[24, 32, 48], min_length=3, max_length=3)
    heads: int = Field(default=4, ge=1, le=64)
    embedding: int = Field(default=64, ge=2, le=4096, multiple_of=2)
    sigma_min: float = Field(default=0.01, gt=0, le=1e6)
    sigma_max: float = Field(default=10.0, gt=0, le=1e6)
    num_levels: int = Field(default=64, ge=2, le=10_000)
    num_corrector: int = Field(default=2, ge=0, le=100)
    r: float = Field(default=0.16, gt=0, le=10)

    tap_default: ClassVar[str] = "denoised"
    learned: ClassVar[bool] = True
    score_model: ClassVar[bool] = True  # trained by denoising score matching

    @model_validator(mode="after")
    def _sigma_range(self):
        if not self.sigma_max > self.sigma_min:
            raise ValueError("'sigma_max' must be greater than 'sigma_min'")
        return self

    def build(self, info):
        from models.scdm import SCDMDenoiser

        layer = SCDMDenoiser(channels=self.channels, heads=self.heads, embedding=self.embedding, sigma_min=self.sigma_min,
                             sigma_max=self.sigma_max, num_levels=self.num_levels, num_corrector=self.num_corrector, r=self.r,
                             name=self.tap_name)
        return _stage(self, layer, lambda x, ctx: layer(x, ctx.no, seed=ctx.seed), learned=True)


class _AMPGeometryParams(StageParams):
    """Latent geometry and width shared by the AMP-SC encoder, decoder and IRSNet."""

    latent_channels: int = Field(default=8, ge=1, le=4096)
    filters: int = Field(default=64, ge=1, le=4096)
    kernel_size: int = Field(default=3, ge=1, le=15)
    downsamplings: int = Field(default=2, ge=1, le=8)
    extraction: int = Field(default=3, ge=0, le=64)
    learned: ClassVar[bool] = True

    def _geometry(self, info):
        return dict(image_size=info.data.patch_size, latent_channels=self.latent_channels, filters=self.filters,
                    kernel_size=self.kernel_size, downsamplings=self.downsamplings, extraction=self.extraction, name=self.tap_name)


@register("stage", "amp_encoder")
class AMPEncoderParams(_AMPGeometryParams):
    """AMP-SC encoder (models.amp_sc.AMPEncoder): images → features in [−½, 2^num_bits − ½], [batch, n] float32."""

    type: Literal["amp_encoder"]
    num_bits: int = Field(default=4, ge=1, le=16)

    tap_default: ClassVar[str] = "features"

    def build(self, info):
        from models.amp_sc import AMPEncoder

        layer = AMPEncoder(num_bits=self.num_bits, **self._geometry(info))
        return _layer_stage(self, layer)


@register("stage", "amp_decoder")
class AMPDecoderParams(_AMPGeometryParams):
    """AMP-SC decoder (models.amp_sc.AMPDecoder): features [batch, n] → images [batch, H, W, 3]."""

    type: Literal["amp_decoder"]

    tap_default: ClassVar[str] = "reconstruction"

    def build(self, info):
        from models.amp_sc import AMPDecoder

        layer = AMPDecoder(**self._geometry(info))
        return _layer_stage(self, layer, to_float=True)


@register("stage", "irsnet")
class IRSNetParams(_AMPGeometryParams):
    """AMP-SC information restoration U-Net (models.amp_sc.IRSNet): received features → restored features [batch, n]."""

    type: Literal["irsnet"]
    filters: int = Field(default=32, ge=1, le=4096)

    tap_default: ClassVar[str] = "restored"

    def build(self, info):
        from models.amp_sc import IRSNet

        layer = IRSNet(**self._geometry(info))
        return _layer_stage(self, layer, to_float=True)

