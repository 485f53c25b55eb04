"""Catalogue of the PHY stages: mapping and demapping, channels, channel coding, quantization and
bit conversion.

Each class is the validated parameter set of one ``phy`` (Sionna) block; ``build(context)`` wraps the
block in a :class:`linksim.engine.link.Stage`.
"""
from typing import ClassVar, Literal

from pydantic import Field, model_validator

from linksim.engine.registry import register
from linksim.engine.stage import LABELLING, MODULATION, Signal, StageParams, make_stage

__all__ = ["MapperParams", "DemapperParams", "SlicerParams", "SymbolDecisionParams", "AWGNParams", "RealAWGNParams",
           "RayleighParams", "ScaleParams", "ErrorProbabilityParams", "BSCParams", "LabelChannelParams", "ChannelEncoderParams", "ChannelDecoderParams",
           "LDPCEncoderParams", "LDPCDecoderParams",
           "PolarEncoderParams", "PolarDecoderParams", "InterleaverParams",
           "QuantizerParams", "DequantizerParams", "ADParams", "DAParams"]


# ---------------------------------------------------------------------------------- mapping
@register("stage", "mapper")
class MapperParams(StageParams):
    """Bits → unit-energy constellation symbols (Sionna Mapper): [batch, n/k] complex64."""

    type: Literal["mapper"]
    modulation: MODULATION
    labelling: LABELLING = "gray"

    tap_default: ClassVar[str] = "symbols"

    def bits_per_symbol(self):
        from linksim.phy.modulations import MODULATIONS

        return MODULATIONS[self.modulation].num_bits_per_symbol

    def signal(self, received):
        received.expect("bits")
        per_symbol = self.bits_per_symbol()
        if received.size is not None and received.size % per_symbol:
            raise ValueError(f"receives {received.size} bits per row, not a multiple of the {per_symbol} bits of a {self.modulation} symbol")
        return Signal("symbols", None if received.size is None else received.size // per_symbol, self.modulation)

    def build(self, context):
        from sionna.phy.mapping import Mapper

        from linksim.phy.constellations import make_constellation

        mapper = Mapper(constellation=make_constellation(self.modulation, labelling=self.labelling))
        return make_stage(self, mapper, lambda x, ctx: mapper(x))


def _per_symbol(received, modulation, verb, bits):
    """What a receiver of ``modulation`` symbols gives per row: its bits (``bits``) or one decision per
    symbol; ``ValueError`` if it receives no symbols or another modulation's."""
    received.expect("symbols")
    if received.modulation is not None and received.modulation != modulation:
        raise ValueError(f"receives {received.modulation} symbols but {verb} {modulation}")
    if received.size is None or not bits:
        return received.size
    from linksim.phy.modulations import MODULATIONS

    return received.size * MODULATIONS[modulation].num_bits_per_symbol


@register("stage", "demapper")
class DemapperParams(StageParams):
    """Demapper: LLRs (app or maxlog) or hard bits: [batch, n·k] float32.

    Soft LLRs of square constellations labelled per axis (Gray or natural QAM, PAM) come from
    :class:`linksim.phy.demapping.AxisDemapper` (Sionna's LLRs computed axis by axis, tested equal);
    hard bits and other constellations from Sionna's ``Demapper``.
    """

    type: Literal["demapper"]
    modulation: MODULATION
    labelling: LABELLING = "gray"
    method: Literal["app", "maxlog"] = "maxlog"
    hard: bool = False

    @property
    def tap_default(self):
        return "bits_hat" if self.hard else "llr"

    def signal(self, received):
        return Signal("bits" if self.hard else "llrs", _per_symbol(received, self.modulation, "demaps", bits=True))

    def build(self, context):
        from sionna.phy.mapping import Demapper

        from linksim.phy.constellations import make_constellation
        from linksim.phy.demapping import AxisDemapper

        constellation = make_constellation(self.modulation, labelling=self.labelling)
        try:
            demapper = None if self.hard else AxisDemapper(self.method, constellation=constellation)
        except ValueError:  # not separable per axis
            demapper = None
        demapper = demapper or Demapper(self.method, constellation=constellation, hard_out=self.hard)
        return make_stage(self, demapper, lambda y, ctx: demapper(y, ctx.demapper_no))


@register("stage", "slicer")
class SlicerParams(StageParams):
    """Exact hard bits by per-axis slicing (= maxlog hard decisions, O(1) per symbol)."""

    type: Literal["slicer"]
    modulation: MODULATION
    labelling: LABELLING = "gray"

    tap_default: ClassVar[str] = "bits_hat"

    def signal(self, received):
        return Signal("bits", _per_symbol(received, self.modulation, "demaps", bits=True))

    def build(self, context):
        from linksim.phy.constellations import make_constellation
        from linksim.phy.demapping import SlicerDemapper

        slicer = SlicerDemapper(constellation=make_constellation(self.modulation, labelling=self.labelling))
        return make_stage(self, slicer, lambda y, ctx: slicer(y))


@register("stage", "symbol_decision")
class SymbolDecisionParams(StageParams):
    """Nearest-point symbol decisions (Sionna SymbolDemapper, hard): [batch, n] int32."""

    type: Literal["symbol_decision"]
    modulation: MODULATION
    labelling: LABELLING = "gray"

    tap_default: ClassVar[str] = "symbol_indices_hat"

    def signal(self, received):
        return Signal("integers", _per_symbol(received, self.modulation, "decides", bits=False))

    def build(self, context):
        from sionna.phy.mapping import SymbolDemapper

        from linksim.phy.constellations import make_constellation

        demapper = SymbolDemapper(constellation=make_constellation(self.modulation, labelling=self.labelling), hard_out=True)
        return make_stage(self, demapper, lambda y, ctx: demapper(y, ctx.demapper_no))


@register("stage", "scale")
class ScaleParams(StageParams):
    """Multiplies its input by ``factor``: a transmit amplitude (power × factor²) or a receiver's gain."""

    type: Literal["scale"]
    factor: float = Field(gt=0, le=1e6)

    tap_default: ClassVar[str] = "scaled"

    def signal(self, received):
        return received

    def build(self, context):
        factor = self.factor

        def apply(x, ctx):
            import tensorflow as tf

            return x * tf.cast(factor, x.dtype)

        return make_stage(self, None, apply)


# ---------------------------------------------------------------------------------- channels
@register("stage", "awgn")
class AWGNParams(StageParams):
    """Complex AWGN with the point's noise variance N0 per symbol."""

    type: Literal["awgn"]

    tap_default: ClassVar[str] = "received"
    figures: ClassVar[tuple[str, ...]] = ("constellation",)
    noise_channel: ClassVar[bool] = True

    def signal(self, received):
        return received

    def build(self, context):
        from linksim.phy.channels import AWGN

        awgn = AWGN()
        return make_stage(self, awgn, lambda x, ctx: awgn(x, ctx.no, seed=ctx.seed))


@register("stage", "real_awgn")
class RealAWGNParams(StageParams):
    """Real AWGN for analog latents, noise variance per real sample from the 'snr' convention."""

    type: Literal["real_awgn"]

    tap_default: ClassVar[str] = "received"
    noise_channel: ClassVar[bool] = True

    def build(self, context):
        from linksim.phy.channels import RealAWGN

        awgn = RealAWGN()
        return make_stage(self, awgn, lambda x, ctx: awgn(x, ctx.no, seed=ctx.seed))


@register("stage", "lmmse")
class LMMSEParams(StageParams):
    """Linear MMSE estimate of symbols of power P from y = x + n: y·P / (P + N0) (the point's N0; ``signal_power``
    P, default 1). The best scaling of y for any zero-mean symbols of power P, whatever their distribution."""

    type: Literal["lmmse"]
    signal_power: float = Field(default=1.0, gt=0, le=1e12)

    tap_default: ClassVar[str] = "estimate"

    def build(self, context):
        import tensorflow as tf

        def apply(y, ctx):
            gain = self.signal_power / (self.signal_power + ctx.no)
            return y * tf.cast(gain, y.dtype)

        return make_stage(self, None, apply)


@register("stage", "rayleigh")
class RayleighParams(StageParams):
    """Rayleigh block fading + AWGN with perfect-CSI equalisation (sets no_eff for demappers)."""

    type: Literal["rayleigh"]
    block_length: int = Field(default=1, gt=0, le=2**20)

    tap_default: ClassVar[str] = "equalized"
    figures: ClassVar[tuple[str, ...]] = ("constellation",)
    noise_channel: ClassVar[bool] = True

    def signal(self, received):
        return received

    def build(self, context):
        from linksim.phy.channels import RayleighBlockFading

        channel = RayleighBlockFading(block_length=self.block_length)

        def apply(x, ctx):
            y, ctx.no_eff = channel(x, ctx.no, seed=ctx.seed)
            return y

        return make_stage(self, channel, apply)


def modulation_ber(modulation: str, snr_db: float, convention: str) -> float:
    """Exact BER of uncoded ``modulation`` over AWGN at a point of the sweep. With the ``snr``
    convention (real samples, noise variance = signal power / SNR) only BPSK has a meaning: ±√P
    on a real channel, BER = Q(√SNR), i.e. complex BPSK at Es/N0 = SNR / 2."""
    import math

    from linksim.phy.ber_theory import ber_awgn

    if convention == "snr":
        if modulation != "bpsk":
            raise ValueError(f"with the 'snr' convention (real samples) bits stand for real BPSK only, not {modulation}")
        return float(ber_awgn("bpsk", snr_db - 10 * math.log10(2), "esno"))
    return float(ber_awgn(modulation, snr_db, convention))


class ErrorProbabilityParams(StageParams):
    """Base of stages with an error probability p: fixed (``error_probability``), or the closed-form
    BER of ``modulation`` at the point's SNR (:func:`modulation_ber`). With both, ``error_probability``
    is used and ``modulation`` only sets the bits per symbol of Eb/N0 (a BSC standing for it).
    ``probability_required = False``: a stage that needs p only in some of its modes checks it itself."""

    error_probability: float | None = Field(default=None, ge=0, le=1)
    modulation: MODULATION | None = None

    probability_required: ClassVar[bool] = True

    @model_validator(mode="after")
    def _one_source_of_p(self):
        if self.probability_required and self.error_probability is None and self.modulation is None:
            raise ValueError("give 'error_probability' or 'modulation' (or both)")
        return self

    def probability_at(self, snr_db: float, convention: str) -> float:
        """p at an SNR point: the fixed value, or the modulation's exact BER over AWGN."""
        if self.error_probability is not None:
            return self.error_probability
        return modulation_ber(self.modulation, snr_db, convention)


@register("stage", "bsc")
class BSCParams(ErrorProbabilityParams):
    """Binary symmetric channel (Sionna's): flip probability fixed, or the closed-form BER of ``modulation`` at the
    point's SNR. With both, ``error_probability`` is used and ``modulation`` only sets the bits per symbol of Eb/N0."""

    type: Literal["bsc"]

    tap_default: ClassVar[str] = "received_bits"
    point_parameter: ClassVar[str] = "flip_probability"

    def bits_per_symbol(self):
        # Eb/N0 of a BSC that stands for a modulation refers to that modulation's bits.
        if self.modulation is None:
            return None
        from linksim.phy.modulations import MODULATIONS

        return MODULATIONS[self.modulation].num_bits_per_symbol

    def signal(self, received):
        received.expect("bits")
        return received

    def build(self, context):
        from linksim.phy.channels import BinarySymmetricChannel

        bsc = BinarySymmetricChannel()

        return make_stage(
            self, bsc, lambda x, ctx: bsc(x, ctx.point_value),
            point_value=lambda snr_db: self.probability_at(snr_db, context.convention),
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
            check_transition_key(self.transition)
        return self

    tap_default: ClassVar[str] = "received_labels"

    def build(self, context):
        from linksim.phy.channels import LabelChannel

        if self.transition is not None:
            channel = LabelChannel(transition=self.transition)
        else:
            channel = LabelChannel.symmetric(self.num_classes, self.error_probability)
        return make_stage(self, channel, lambda x, ctx: channel(x, seed=ctx.seed))


def check_transition_key(transition, num_classes: int | None = None) -> None:
    """A scenario's ``transition`` key: a row-stochastic C×C matrix (:func:`linksim.phy.transitions.check_transition`)."""
    from linksim.phy.transitions import check_transition

    try:
        check_transition(transition, num_classes)
    except ValueError as exc:
        raise ValueError(f"'transition': {exc}") from None


# ---------------------------------------------------------------------------------- channel coding
class _BlockCode(StageParams):
    """A 5G NR code (``code``: Sionna's LDPC or Polar) of ``k`` information and ``n`` coded bits."""

    k: int = Field(gt=0, le=8448)
    n: int = Field(gt=0, le=316 * 384)

    code: ClassVar[str]

    def check(self, curve, data):
        from linksim.phy.code_limits import code_error

        error = code_error(self.code, self.k, self.n)
        if error:
            raise ValueError(error)


class ChannelEncoderParams(_BlockCode):
    """Block by block: [batch, m·k] bits → [batch, m·n] coded bits. Its rate k/n enters the curve's
    Eb/N0. It must receive a multiple of ``k`` bits per row (validation checks it wherever the chain
    says how many); with exactly ``k``, the ``bler`` metric counts code blocks."""

    tap_default: ClassVar[str] = "codewords"

    def code_rate(self):
        return self.k / self.n

    def signal(self, received):
        received.expect("bits")
        if received.size is not None and received.size % self.k:
            raise ValueError(f"receives {received.size} bits per row, not a multiple of k = {self.k}")
        return Signal("bits", None if received.size is None else received.size // self.k * self.n)

    def encoder_options(self) -> dict:
        """Keyword arguments of :class:`linksim.phy.coding.BlockEncoder` beyond the code."""
        return {}

    def build(self, context):
        from linksim.phy.coding import BlockEncoder

        encoder = BlockEncoder(self.code, self.k, self.n, **self.encoder_options())
        return make_stage(self, encoder.encoder, lambda x, ctx: encoder(x))


class ChannelDecoderParams(_BlockCode):
    """Block by block: [batch, m·n] LLRs → [batch, m·k] hard information bits. Give it the ``k``
    and ``n`` of the encoder."""

    tap_default: ClassVar[str] = "decoded_bits"

    def decoder_options(self) -> dict:
        """Keyword arguments of :class:`linksim.phy.coding.BlockDecoder` beyond the code."""
        return {}

    def signal(self, received):
        if received.kind == "bits":
            raise ValueError("takes LLRs, but receives hard bits: a decoder needs soft values (a demapper with 'hard: false', "
                             "or method 'app'/'maxlog' without 'hard'; not a slicer)")
        received.expect("llrs")
        if received.size is not None and received.size % self.n:
            raise ValueError(f"receives {received.size} values per row, not a multiple of n = {self.n}")
        return Signal("bits", None if received.size is None else received.size // self.n * self.k, block=self.k)

    def build(self, context):
        from linksim.phy.coding import BlockDecoder, BlockEncoder

        decoder = BlockDecoder(BlockEncoder(self.code, self.k, self.n), **self.decoder_options())
        counted = self.statistics()

        def apply(llr, ctx):
            bits, iterations = decoder.decode(llr)
            if counted:
                ctx.statistics["iterations"] = iterations
            return bits

        return make_stage(self, decoder.decoder, apply)


@register("stage", "ldpc_encoder")
class LDPCEncoderParams(ChannelEncoderParams):
    """5G LDPC encoder, block by block: [batch, m·k] bits → [batch, m·n] coded bits.

    ``implementation``: ``sionna`` (default: Sionna's ``LDPC5GEncoder``) or ``fast``
    (:class:`linksim.phy.ldpc_encoding.QCLDPC5GEncoder`: the same codewords bit for bit, only the
    sent parity blocks computed, on the code's quasi-cyclic structure; about 4× faster).
    """

    type: Literal["ldpc_encoder"]
    implementation: Literal["sionna", "fast"] = "sionna"
    code: ClassVar[str] = "ldpc"
    added_later: ClassVar[dict] = {"implementation": "sionna"}

    def encoder_options(self):
        return {"implementation": self.implementation}


@register("stage", "ldpc_decoder")
class LDPCDecoderParams(ChannelDecoderParams):
    """5G LDPC belief-propagation decoder: [batch, m·n] LLRs → [batch, m·k] hard bits.

    ``implementation``: ``sionna`` (default, the reference: Sionna's ``LDPC5GDecoder``) or ``fast``
    (:class:`linksim.phy.ldpc_decoding.QCLDPC5GDecoder`: the same code decoded on its quasi-cyclic
    structure, with early termination). ``iterations``: the most iterations (default 20, Sionna's).
    ``rule``: check-node rule, ``boxplus-phi`` (default), ``minsum``, ``offset-minsum`` (``offset``,
    default 0.5; Sionna's decoder has 0.5 only) or ``normalized-minsum`` (``scale``, default 0.75;
    ``fast`` only). ``schedule``: ``flooding`` (default) or ``layered`` (row block by row block of the
    base graph; Sionna's layered decoder does not compile with XLA, so its curve runs as a graph).
    ``early_stop``: stop each codeword once its syndrome is zero (``fast`` only; its default there);
    the curve then reports the mean ``iterations`` per codeword at each point.
    """

    type: Literal["ldpc_decoder"]
    iterations: int = Field(default=20, ge=1, le=1000)
    implementation: Literal["sionna", "fast"] = "sionna"
    rule: Literal["boxplus-phi", "minsum", "offset-minsum", "normalized-minsum"] = "boxplus-phi"
    scale: float | None = Field(default=None, gt=0, le=1)
    offset: float | None = Field(default=None, ge=0, le=20)
    schedule: Literal["flooding", "layered"] = "flooding"
    early_stop: bool | None = None
    code: ClassVar[str] = "ldpc"
    added_later: ClassVar[dict] = {"implementation": "sionna", "rule": "boxplus-phi", "scale": None, "offset": None,
                                   "schedule": "flooding", "early_stop": None}

    @model_validator(mode="after")
    def _options_fit(self):
        if self.scale is not None and self.rule != "normalized-minsum":
            raise ValueError("'scale' is the factor of rule 'normalized-minsum'")
        if self.offset is not None and self.rule != "offset-minsum":
            raise ValueError("'offset' is the offset of rule 'offset-minsum'")
        if self.implementation == "sionna":
            if self.rule == "normalized-minsum":
                raise ValueError("rule 'normalized-minsum' needs 'implementation: fast' (Sionna's decoder has no such rule)")
            if self.offset not in (None, 0.5):
                raise ValueError("Sionna's offset min-sum has offset 0.5 only; other offsets need 'implementation: fast'")
            if self.early_stop:
                raise ValueError("'early_stop' needs 'implementation: fast' (Sionna's decoder always runs every iteration)")
        return self

    @property
    def xla_compatible(self) -> bool:
        return not (self.implementation == "sionna" and self.schedule == "layered")

    @property
    def stops_early(self) -> bool:
        """Early termination: on by default with the fast decoder, never with Sionna's."""
        return self.implementation == "fast" and self.early_stop is not False

    def statistics(self):
        return ["iterations"] if self.stops_early else []

    def decoder_options(self):
        options = {"iterations": self.iterations, "implementation": self.implementation, "rule": self.rule,
                   "schedule": self.schedule, "early_stop": self.stops_early}
        if self.scale is not None:
            options["scale"] = self.scale
        if self.offset is not None:
            options["offset"] = self.offset
        return options


@register("stage", "polar_encoder")
class PolarEncoderParams(ChannelEncoderParams):
    """5G Polar encoder (Sionna), block by block: [batch, m·k] bits → [batch, m·n] coded bits.

    Uplink: CRC, sub-block interleaving, rate matching and channel interleaving as 38.212.
    """

    type: Literal["polar_encoder"]
    k: int = Field(gt=0, le=1013)
    n: int = Field(gt=0, le=1088)
    code: ClassVar[str] = "polar"


@register("stage", "polar_decoder")
class PolarDecoderParams(ChannelDecoderParams):
    """5G Polar CRC-aided list decoder (Sionna's hybrid SC/SCL, list 8): [batch, m·n] LLRs → [batch, m·k] bits.

    Runs NumPy code inside the graph (its curve is never XLA-compiled).
    """

    type: Literal["polar_decoder"]
    k: int = Field(gt=0, le=1013)
    n: int = Field(gt=0, le=1088)
    code: ClassVar[str] = "polar"
    xla_compatible: ClassVar[bool] = False


@register("stage", "interleaver")
class InterleaverParams(StageParams):
    """A fixed random permutation of the last axis per ``seed`` (Sionna's RandomInterleaver's, drawn once
    outside the compiled step so that every execution mode applies the same one); the de-interleaver is
    the same stage with ``inverse: true`` and the same seed."""

    type: Literal["interleaver"]
    seed: int = Field(default=1, ge=0, le=2**31 - 1)
    inverse: bool = False

    @property
    def tap_default(self):
        return "deinterleaved" if self.inverse else "interleaved"

    def signal(self, received):
        return received

    def build(self, context):
        from linksim.phy.interleaving import FixedInterleaver

        interleaver = FixedInterleaver(seed=self.seed, inverse=self.inverse)
        return make_stage(self, interleaver, lambda x, ctx: interleaver(x))


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

    def quantization_step(self) -> float:
        return (self.maxval - self.minval) / (2**self.num_bits - 1)

    def signal(self, received):
        return Signal("integers" if self.output == "index" else None, received.size)

    def build(self, context):
        from linksim.phy.quantization import UniformQuantizer

        q = UniformQuantizer(num_bits=self.num_bits, minval=self.minval, maxval=self.maxval, output=self.output)
        return make_stage(self, q, lambda x, ctx: q(x))


@register("stage", "dequantizer")
class DequantizerParams(_UniformLevels):
    """Integer level indices → level values of the uniform quantizer with the same parameters."""

    type: Literal["dequantizer"]

    tap_default: ClassVar[str] = "dequantized"

    def signal(self, received):
        received.expect("integers")
        return Signal(None, received.size)

    def build(self, context):
        from linksim.phy.quantization import UniformQuantizer

        q = UniformQuantizer(num_bits=self.num_bits, minval=self.minval, maxval=self.maxval)
        return make_stage(self, q, lambda x, ctx: q.dequantize(x))


@register("stage", "ad")
class ADParams(StageParams):
    """AD conversion: integers → num_bits bits each, MSB first, natural or Gray code."""

    type: Literal["ad"]
    num_bits: int = Field(ge=1, le=30)
    code: Literal["natural", "gray"] = "natural"

    tap_default: ClassVar[str] = "ad_bits"

    def signal(self, received):
        received.expect("integers")
        return Signal("bits", None if received.size is None else received.size * self.num_bits)

    def build(self, context):
        from linksim.phy.quantization import IntegerToBits

        ad = IntegerToBits(num_bits=self.num_bits, code=self.code)
        return make_stage(self, ad, lambda x, ctx: ad(x))


@register("stage", "da")
class DAParams(StageParams):
    """DA conversion: groups of num_bits bits (MSB first) → integers."""

    type: Literal["da"]
    num_bits: int = Field(ge=1, le=30)
    code: Literal["natural", "gray"] = "natural"

    tap_default: ClassVar[str] = "integers"

    def signal(self, received):
        received.expect("bits")
        if received.size is not None and received.size % self.num_bits:
            raise ValueError(f"receives {received.size} bits per row, not a multiple of num_bits = {self.num_bits}")
        return Signal("integers", None if received.size is None else received.size // self.num_bits)

    def build(self, context):
        from linksim.phy.quantization import BitsToInteger

        da = BitsToInteger(num_bits=self.num_bits, code=self.code)
        return make_stage(self, da, lambda x, ctx: da(x))
