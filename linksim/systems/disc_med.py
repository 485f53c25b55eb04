"""Catalogue of DiSC-Med (:mod:`linksim.models.disc_med`): the semantic link's stages, the objectives
that train its networks, and the BER of its semantic representation.

It reads the CT volume datasets of :mod:`linksim.catalogue.datasets` (samples ``[D, H, W, 2]``: CT in
[0, 1] and AMOS label id) and is scored by the generic ``segmentation`` metric. A curve reads

    images → semantic_extraction → strided_compress → channel (real_awgn | semantic_errors)
           → trilinear_restore → semantic_denoiser (or semantic_decision) → ddpm_reconstruction
           → ct_segmenter (blind downstream model) → metric ``segmentation``

and the baselines replace the semantic chain with ``ct_encoder`` → channel → ``ct_decoder``.
"""
from typing import Annotated, ClassVar, Literal

from pydantic import Field, model_validator

from linksim.domains.medical.datasets import NUM_CT_CLASSES as NUM_CLASSES
from linksim.catalogue.metrics import Metric, MetricParams
from linksim.catalogue.objectives import ObjectiveParams
from linksim.catalogue.phy_stages import ErrorProbabilityParams, check_transition_key
from linksim.engine.registry import register
from linksim.engine.stage import StageParams, make_stage

__all__ = ["SemanticExtractionParams", "StridedCompressParams", "TrilinearRestoreParams",
           "SemanticErrorsParams", "SemanticDenoiserParams", "SemanticDecisionParams", "DDPMReconstructionParams",
           "CTSegmenterParams", "CTEncoderParams", "CTDecoderParams", "SegmenterCrossEntropy", "SemanticCrossEntropy",
           "DDPMObjective", "CTMSEObjective", "SemanticErrorRate"]
VOCABULARY = ("disc_med", "disc-med")  # words that name this system (tests/test_engine_boundaries.py)


# ---------------------------------------------------------------- stages


def _volume_shape(data):
    if len(data.sample_shape) != 4:
        raise ValueError(f"needs CT volume samples [D, H, W, 2] (dataset ct-phantom, amos or dicom), got samples of shape {data.sample_shape}")
    return data.sample_shape[:3]


def _check_levels(data, levels):
    """A U-Net of ``levels`` resolutions halves H and W levels − 1 times."""
    shape = _volume_shape(data)
    if shape[1] % 2 ** (levels - 1) or shape[2] % 2 ** (levels - 1):
        raise ValueError(f"H and W ({shape[1]}, {shape[2]}) must be multiples of 2^(levels − 1) = {2 ** (levels - 1)}")


class _Strided(StageParams):
    """Strides of the compression (the paper's: every 2nd slice, every 4th pixel)."""

    strides: list[Annotated[int, Field(ge=1, le=64)]] = Field(default=[2, 4, 4], min_length=3, max_length=3)

    def check(self, curve, data):
        shape = _volume_shape(data)
        if any(n % s for n, s in zip(shape, self.strides)):
            raise ValueError(f"volume shape {list(shape)} is not a multiple of the strides {self.strides}")


@register("stage", "semantic_extraction")
class SemanticExtractionParams(StageParams):
    """Segmentation and Canny edge volumes: CT volumes with labels [batch, D, H, W, 2] (channel 1: the
    dataset's ground truth, or the transmitter's ``ct_segmenter`` with ``keep_ct``) or label maps
    [batch, D, H, W] (a ``ct_segmenter``'s) → [batch, D, H, W, 2] (label / 15, edge bit), or with
    ``representation: one_hot`` [batch, D, H, W, 17] (class indicators, edge bit). Edges of the
    organs and, from the CT of samples with ``body_edges``, of the body outline and bone.

    ``labels: segmenter`` (default; the paper's transmitter segments the CT with TotalSegmentator)
    reads the labels of a ``ct_segmenter`` placed just before it, so that the transmitter's own
    segmentation errors are in the link; ``labels: ground_truth`` reads the dataset's labels."""

    type: Literal["semantic_extraction"]
    edge_sigma: float = Field(default=1.0, gt=0, le=100)
    body_edges: bool = True
    labels: Literal["segmenter", "ground_truth"] = "segmenter"
    representation: Literal["label", "one_hot"] = "label"

    tap_default: ClassVar[str] = "semantics"
    xla_compatible: ClassVar[bool] = False
    added_later: ClassVar[dict] = {"labels": "ground_truth", "representation": "label"}

    def check(self, curve, data):
        _volume_shape(data)
        index = next(i for i, s in enumerate(curve.stages) if s is self)
        after_segmenter = index > 0 and isinstance(curve.stages[index - 1], CTSegmenterParams)
        if self.labels == "segmenter" and not after_segmenter:
            raise ValueError("'labels: segmenter' (the default) reads the labels of a ct_segmenter placed just before it "
                             "(the transmitter's segmentation, with 'keep_ct: true'); add one, or set 'labels: ground_truth'")
        if self.labels == "ground_truth" and after_segmenter:
            raise ValueError("'labels: ground_truth' reads the dataset's labels, but a ct_segmenter comes just before it: "
                             "set 'labels: segmenter'")

    def build(self, context):
        import numpy as np
        import tensorflow as tf

        from linksim.models.disc_med.semantic_codes import encode_semantics
        from linksim.models.disc_med.semantics import coarse_masks, edge_volume

        depth, height, width = context.sample_shape[:3]

        def edges_of(labels, ct):
            regions = [coarse_masks(v, c) if self.body_edges else v for v, c in zip(labels, ct)]
            return np.stack([edge_volume(r, self.edge_sigma) for r in regions]).astype(np.int32)

        def apply(x, ctx):
            samples = len(x.shape) == 5
            labels = tf.cast(tf.round(x[..., 1] if samples else x), tf.int32)  # [batch, D, H, W]
            ct = x[..., 0] if samples else tf.zeros_like(x)
            edges = tf.numpy_function(edges_of, [labels, ct], tf.int32, stateful=False)
            edges.set_shape([None, depth, height, width])
            return encode_semantics(labels, edges, NUM_CLASSES, one_hot=self.representation == "one_hot")

        return make_stage(self, None, apply)


@register("stage", "strided_compress")
class StridedCompressParams(_Strided):
    """Strided sampling [batch, D, H, W, C] → [batch, D/2, H/4, W/4, C] (strides as set)."""

    type: Literal["strided_compress"]

    tap_default: ClassVar[str] = "latent"

    def build(self, context):
        from linksim.models.disc_med.resampling import strided_compress

        return make_stage(self, None, lambda x, ctx: strided_compress(x, tuple(self.strides)))


@register("stage", "trilinear_restore")
class TrilinearRestoreParams(_Strided):
    """Trilinear interpolation of a strided volume back to the dataset's [D, H, W] (eq. 3)."""

    type: Literal["trilinear_restore"]

    tap_default: ClassVar[str] = "restored"

    def build(self, context):
        from linksim.models.disc_med.resampling import trilinear_restore

        shape = context.sample_shape[:3]
        return make_stage(self, None, lambda x, ctx: trilinear_restore(x, shape, tuple(self.strides)))


@register("stage", "semantic_errors")
class SemanticErrorsParams(ErrorProbabilityParams):
    """The paper's discrete channel on (label / 15, edge) volumes: labels through a transition matrix T
    (default symmetric: error probability p, wrong labels equally likely), edge bits through a BSC(p);
    p fixed (``error_probability``) or the closed-form BER of ``modulation`` at the point's SNR."""

    type: Literal["semantic_errors"]
    transition: list[list[Annotated[float, Field(ge=0, le=1)]]] | None = None

    tap_default: ClassVar[str] = "received"
    point_parameter: ClassVar[str] = "error_probability"

    @model_validator(mode="after")
    def _transition_over_the_ct_labels(self):
        if self.transition is not None:
            check_transition_key(self.transition, NUM_CLASSES)  # background and the 15 AMOS labels
        return self

    def build(self, context):
        from linksim.models.disc_med.semantic_codes import semantic_errors

        return make_stage(self, None, lambda x, ctx: semantic_errors(x, ctx.point_value, NUM_CLASSES, ctx.seed, self.transition),
                          point_value=lambda snr_db: self.probability_at(snr_db, context.convention))


@register("stage", "semantic_denoiser")
class SemanticDenoiserParams(ErrorProbabilityParams):
    """Channel-aware denoiser (linksim.models.disc_med.denoiser): restored [batch, D, H, W, 2 or 17] → class and edge
    probabilities [batch, D, H, W, 17], conditioned on the SNR (dB / 10) or on log10 of the BER (fixed
    ``error_probability`` or ``modulation``'s at the point). Trained by ``loss: semantic_ce``."""

    type: Literal["semantic_denoiser"]
    condition: Literal["snr", "ber"] = "snr"
    filters: int = Field(default=16, ge=1, le=1024)
    levels: int = Field(default=2, ge=2, le=6)
    embedding: int = Field(default=32, ge=1, le=1024)

    tap_default: ClassVar[str] = "denoised"
    learned: ClassVar[bool] = True
    trained_by: ClassVar[str] = "semantic_ce"
    point_parameter: ClassVar[str] = "log10_ber"
    probability_required: ClassVar[bool] = False  # only with condition: ber

    @model_validator(mode="after")
    def _state(self):
        if self.condition == "ber" and self.error_probability is None and self.modulation is None:
            raise ValueError("'condition: ber' needs 'error_probability' or 'modulation' (the BER the denoiser is told)")
        return self

    def check(self, curve, data):
        _check_levels(data, self.levels)

    def state(self, snr_db, point_value):
        """The channel state the denoiser is told: SNR dB / 10, or log10 BER (the stage's point value)."""
        return snr_db / 10.0 if self.condition == "snr" else point_value

    def build(self, context):
        import math

        import tensorflow as tf

        from linksim.models.disc_med.denoiser import SemanticDenoiser

        layer = SemanticDenoiser(NUM_CLASSES, self.filters, self.levels, self.embedding, name=self.tap_name)

        def apply(x, ctx):
            state = tf.fill([tf.shape(x)[0]], tf.cast(self.state(ctx.snr_db, ctx.point_value), tf.float32))
            return SemanticDenoiser.probabilities(layer(x, state, training=ctx.training))

        point = (lambda snr_db: math.log10(max(self.probability_at(snr_db, context.convention), 1e-12))) if self.condition == "ber" else None
        return make_stage(self, layer, apply, point_value=point, learned=True)


@register("stage", "semantic_decision")
class SemanticDecisionParams(StageParams):
    """The ablation without denoiser: restored [batch, D, H, W, 2 or 17] → decided label one-hot and edge > 1/2 [.., 17]."""

    type: Literal["semantic_decision"]

    tap_default: ClassVar[str] = "denoised"

    def build(self, context):
        from linksim.models.disc_med.semantic_codes import decide_semantics

        return make_stage(self, None, lambda x, ctx: decide_semantics(x, NUM_CLASSES))


@register("stage", "ddpm_reconstruction")
class DDPMReconstructionParams(StageParams):
    """Conditional DDPM (linksim.models.disc_med.reconstruction): condition [batch, D, H, W, 17] → CT [batch, D, H, W, 1]
    by ``sampling_steps`` DDIM steps per slice (``sampler: ddpm``: the full chain of eq. 5) from the link's seed.
    Trained by ``loss: ddpm`` on clean semantics, the U-Net predicting ε (eq. 5) or, with ``prediction: v``, v;
    ``attention_levels``: self-attention at that many of its lowest resolutions, bottleneck first (III-C2)."""

    type: Literal["ddpm_reconstruction"]
    filters: int = Field(default=16, ge=1, le=1024)
    levels: int = Field(default=3, ge=2, le=6)
    num_steps: int = Field(default=1000, ge=2, le=10_000)
    sampling_steps: int = Field(default=25, ge=1, le=10_000)
    sampler: Literal["ddim", "ddpm"] = "ddim"
    prediction: Literal["epsilon", "v"] = "epsilon"
    embedding: int = Field(default=32, ge=1, le=1024)
    attention_levels: int = Field(default=0, ge=0, le=6)

    tap_default: ClassVar[str] = "reconstruction"
    learned: ClassVar[bool] = True
    trained_by: ClassVar[str] = "ddpm"
    added_later: ClassVar[dict] = {"attention_levels": 0}

    @model_validator(mode="after")
    def _steps(self):
        if self.sampling_steps > self.num_steps:
            raise ValueError(f"'sampling_steps' ({self.sampling_steps}) must not exceed 'num_steps' ({self.num_steps})")
        if self.attention_levels > self.levels:
            raise ValueError(f"'attention_levels' ({self.attention_levels}) must not exceed 'levels' ({self.levels})")
        return self

    def check(self, curve, data):
        _check_levels(data, self.levels)

    def build(self, context):
        from linksim.models.disc_med.reconstruction import DDPMReconstructor

        layer = DDPMReconstructor(NUM_CLASSES, self.filters, self.levels, self.num_steps, self.sampling_steps, self.embedding,
                                  self.sampler, self.prediction, self.attention_levels, name=self.tap_name)
        return make_stage(self, layer, lambda x, ctx: layer(x, ctx.seed), learned=True)


@register("stage", "ct_segmenter")
class CTSegmenterParams(StageParams):
    """Slice segmentation U-Net (linksim.models.disc_med.segmenter): CT [batch, D, H, W, K≥1] (channel 0) → labels
    [batch, D, H, W] float32, or with ``keep_ct`` [batch, D, H, W, 2] (the CT and the labels, the layout of the
    dataset's samples: the transmitter's segmentation before ``semantic_extraction``). Trained by ``loss:
    segmenter_ce`` on the clean CT and labels of the training split."""

    type: Literal["ct_segmenter"]
    filters: int = Field(default=16, ge=1, le=1024)
    levels: int = Field(default=3, ge=2, le=6)
    keep_ct: bool = False

    tap_default: ClassVar[str] = "segmentation"
    learned: ClassVar[bool] = True
    trained_by: ClassVar[str] = "segmenter_ce"
    added_later: ClassVar[dict] = {"keep_ct": False}

    def check(self, curve, data):
        _check_levels(data, self.levels)

    def build(self, context):
        import tensorflow as tf

        from linksim.models.disc_med.segmenter import SliceSegmenter

        layer = SliceSegmenter(NUM_CLASSES, self.filters, self.levels, name=self.tap_name)

        def apply(x, ctx):
            labels = layer(x, training=ctx.training)
            return tf.stack([x[..., 0], labels], -1) if self.keep_ct else labels

        return make_stage(self, layer, apply, learned=True)


class _CTCodec(StageParams):
    """Width and kind of the CT autoencoder baselines (``codebook``: VQ-VAE with that many codes)."""

    filters: int = Field(default=32, ge=1, le=1024)
    codebook: int | None = Field(default=None, ge=2, le=65536)

    learned: ClassVar[bool] = True
    trained_by: ClassVar[str] = "ct_mse"

    def check(self, curve, data):
        shape = _volume_shape(data)
        factor = 4 if self.codebook is None else 8
        if shape[1] % factor or shape[2] % factor:
            raise ValueError(f"H and W ({shape[1]}, {shape[2]}) must be multiples of {factor}")


@register("stage", "ct_encoder")
class CTEncoderParams(_CTCodec):
    """DCAE / VQ-VAE encoder (linksim.models.disc_med.autoencoders): CT volumes → D·H·W/16 real values per volume at
    mean power ``power`` ([batch, D, H/4, W/4, 1]; VQ-VAE [batch, D, H/8, W/8, 4])."""

    type: Literal["ct_encoder"]
    power: float = Field(default=1.0, gt=0, le=1e6)

    tap_default: ClassVar[str] = "latent"

    def build(self, context):
        from linksim.models.disc_med.autoencoders import CTEncoder

        layer = CTEncoder(self.filters, self.codebook, self.power, name=self.tap_name)
        return make_stage(self, layer, lambda x, ctx: layer(x, training=ctx.training), learned=True)


@register("stage", "ct_decoder")
class CTDecoderParams(_CTCodec):
    """DCAE / VQ-VAE decoder: received latent volumes → CT [batch, D, H, W, 1] in [0, 1]."""

    type: Literal["ct_decoder"]

    tap_default: ClassVar[str] = "reconstruction"

    def build(self, context):
        from linksim.models.disc_med.autoencoders import CTDecoder

        layer = CTDecoder(self.filters, vq=self.codebook is not None, name=self.tap_name)
        return make_stage(self, layer, lambda x, ctx: layer(x, training=ctx.training), learned=True)


# ---------------------------------------------------------------- objectives


def _trained_stage(curve, stage, kind, objective):
    """The one stage of class ``kind`` that ``stage`` trains, and its index in the curve."""
    chosen = [s for s in curve.stages if isinstance(s, kind) and s.tap_name in stage.train]
    if len(chosen) != 1 or len(stage.train) != 1:
        name = kind.model_fields["type"].annotation.__args__[0]
        raise ValueError(f"training stage {stage.name!r}: 'loss: {objective}' trains exactly one {name} stage and nothing else")
    return chosen[0], curve.stages.index(chosen[0])


def _extraction_tap(curve, before, objective, stage):
    extraction = [s for s in curve.stages[:before] if isinstance(s, SemanticExtractionParams)]
    if not extraction:
        raise ValueError(f"training stage {stage.name!r}: 'loss: {objective}' needs a semantic_extraction stage before the trained one")
    return extraction[-1].tap_name


class _OwnObjective(ObjectiveParams):
    needs_snr: ClassVar[bool] = False
    uses_bridge: ClassVar[bool] = False


@register("objective", "segmenter_ce")
class SegmenterCrossEntropy(_OwnObjective):
    """Cross-entropy plus ``dice_weight`` × soft Dice loss (nnU-Net's pair) of one ``ct_segmenter`` on the
    clean CT and labels of the training samples."""

    type: Literal["segmenter_ce"]
    dice_weight: float = Field(default=1.0, ge=0, le=1e6)

    def check(self, curve, stage):
        super().check(curve, stage)
        _trained_stage(curve, stage, CTSegmenterParams, "segmenter_ce")

    def build(self, run):
        import tensorflow as tf

        from linksim.models.disc_med.semantic_codes import soft_dice_loss

        layer = run.layers[run.stage.train[0]]

        def loss(images, no, snr_db, seed, point_values):
            labels = tf.cast(tf.round(images[..., 1]), tf.int32)
            logits = layer.logits(images)
            return (tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(labels, logits))
                    + self.dice_weight * soft_dice_loss(logits, labels, NUM_CLASSES))

        return loss


@register("objective", "semantic_ce")
class SemanticCrossEntropy(ObjectiveParams):
    """Trains one ``semantic_denoiser``: the link up to it at the training SNR, then cross-entropy plus
    ``dice_weight`` × soft Dice of its class logits against the clean labels of the semantic_extraction tap,
    plus ``edge_weight`` × the binary cross-entropy of its edge logit against the clean edges."""

    type: Literal["semantic_ce"]
    edge_weight: float = Field(default=1.0, ge=0, le=1e6)
    dice_weight: float = Field(default=1.0, ge=0, le=1e6)

    uses_bridge: ClassVar[bool] = False

    def check(self, curve, stage):
        super().check(curve, stage)
        _, index = _trained_stage(curve, stage, SemanticDenoiserParams, "semantic_ce")
        _extraction_tap(curve, index, "semantic_ce", stage)
        if index == 0:
            raise ValueError(f"training stage {stage.name!r}: the semantic_denoiser needs the channel stages before it")

    def build(self, run):
        import tensorflow as tf

        from linksim.models.disc_med.semantic_codes import label_ids, soft_dice_loss

        params, index = _trained_stage(run.curve, run.stage, SemanticDenoiserParams, "semantic_ce")
        clean_tap = _extraction_tap(run.curve, index, "semantic_ce", run.stage)
        input_tap = run.curve.stages[index - 1].tap_name
        layer = run.layers[params.tap_name]

        def loss(images, no, snr_db, seed, point_values):
            taps = run.link(run.stage.batch_size, no, snr_db, seed, point_values, inputs=images, until=input_tap)
            noisy = tf.stop_gradient(taps[input_tap])
            state = tf.fill([tf.shape(noisy)[0]], tf.cast(params.state(snr_db, point_values[index]), tf.float32))
            logits = layer(noisy, state, training=True)
            clean = taps[clean_tap]
            labels = label_ids(clean, NUM_CLASSES)
            classes = tf.nn.sparse_softmax_cross_entropy_with_logits(labels, logits[..., :-1])
            edges = tf.nn.sigmoid_cross_entropy_with_logits(clean[..., -1], logits[..., -1])
            return (tf.reduce_mean(classes) + self.dice_weight * soft_dice_loss(logits[..., :-1], labels, NUM_CLASSES)
                    + self.edge_weight * tf.reduce_mean(edges))

        return loss


@register("objective", "ddpm")
class DDPMObjective(_OwnObjective):
    """Eq. 5 for one ``ddpm_reconstruction``: noise prediction on the clean CT slices of the training samples,
    conditioned on the clean semantics (one-hot labels and edges of the semantic_extraction tap)."""

    type: Literal["ddpm"]

    def check(self, curve, stage):
        super().check(curve, stage)
        _, index = _trained_stage(curve, stage, DDPMReconstructionParams, "ddpm")
        _extraction_tap(curve, index, "ddpm", stage)

    def build(self, run):
        import tensorflow as tf

        from linksim.models.disc_med.semantic_codes import decide_semantics

        params, index = _trained_stage(run.curve, run.stage, DDPMReconstructionParams, "ddpm")
        clean_tap = _extraction_tap(run.curve, index, "ddpm", run.stage)
        layer = run.layers[params.tap_name]

        def loss(images, no, snr_db, seed, point_values):
            link_seed, loss_seed = tf.unstack(tf.random.split(seed, 2))
            taps = run.link(run.stage.batch_size, no, snr_db, link_seed, point_values, inputs=images, until=clean_tap)
            condition = tf.stop_gradient(decide_semantics(taps[clean_tap], NUM_CLASSES))
            return layer.loss(images[..., :1], condition, loss_seed)

        return loss


@register("objective", "ct_mse")
class CTMSEObjective(ObjectiveParams):
    """Mean squared error between the CT channel of the training samples and the ``ct_decoder``'s output
    (through the stage's ``channel`` bridge), for the autoencoder baselines; VQ losses are added by the encoder."""

    type: Literal["ct_mse"]

    def check(self, curve, stage):
        super().check(curve, stage)
        trained = [s for s in curve.stages if s.tap_name in stage.train]
        if not any(isinstance(s, CTDecoderParams) for s in trained) or not all(isinstance(s, _CTCodec) for s in trained):
            raise ValueError(f"training stage {stage.name!r}: 'loss: ct_mse' trains ct_encoder/ct_decoder stages, a ct_decoder among them")

    def build(self, run):
        import tensorflow as tf

        decoder = [s for s in run.curve.stages if isinstance(s, CTDecoderParams)][0].tap_name

        def loss(images, no, snr_db, seed, point_values):
            taps = run.forward(images, no, snr_db, seed, point_values, until=decoder)
            return tf.reduce_mean(tf.square(images[..., :1] - taps[decoder]))

        return loss


@register("metric", "semantic_ber")
class SemanticErrorRate(MetricParams):
    """The paper's BER of a semantic representation: the fraction of its values (labels and edge bits of
    two semantic taps, either representation, hard-decided) that differ; exact-binomial interval."""

    type: Literal["semantic_ber"]
    sent: str = Field(default="latent", min_length=1)
    received: str = Field(default="received", min_length=1)

    def build(self):
        import tensorflow as tf

        from linksim.catalogue.metrics import rate_stats
        from linksim.models.disc_med.semantic_codes import label_ids

        def decided(x):
            return tf.stack([label_ids(x, NUM_CLASSES), tf.cast(x[..., -1] > 0.5, tf.int32)], -1)

        def update(taps):
            return rate_stats(tf.not_equal(decided(taps[self.sent]), decided(taps[self.received])), taps.get("valid"))

        return Metric(self.metric_name, "rate", update)
