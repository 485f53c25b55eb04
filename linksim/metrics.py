"""Catalogue of metrics accumulated by the Monte Carlo runner.

A metric reduces one batch's taps to a few scalar statistics inside the graph, so only
counts leave it. Two kinds:

- ``rate``: ``errors`` out of ``trials`` (BER, BLER, SER) → exact-binomial or Wilson interval;
- ``mean``: ``sum``, ``sum_sq`` and ``count`` of a per-block value (MSE) → t interval.

Every number the CLI prints is recomputed from these counts as stored in the results file.
When a data source marks rows of its last chunk invalid (tap ``valid``), those rows count for
nothing. PSNR of identical images would be infinite; per image the MSE is floored at
``data_range² · 1e-10``, so an identical image counts as 100 dB and means stay finite.
"""
from abc import abstractmethod
from dataclasses import dataclass
from typing import Annotated, Callable, ClassVar, Literal

from pydantic import Field

from linksim.registry import Params, register

RATE_STATS = ("errors", "trials")
MEAN_STATS = ("sum", "sum_sq", "count")


@dataclass
class Metric:
    """Runtime metric: ``update(taps) -> {stat: scalar tensor}``."""

    name: str
    kind: str  # "rate" or "mean"
    update: Callable

    @property
    def stats(self):
        return RATE_STATS if self.kind == "rate" else MEAN_STATS


class MetricParams(Params):
    """Common fields: the two taps to compare and an optional display name."""

    sent: str = Field(default="bits", min_length=1)
    received: str = Field(default="output", min_length=1)
    name: str | None = Field(default=None, min_length=1, max_length=64)
    kind: ClassVar[str] = "rate"
    xla_compatible: ClassVar[bool] = True  # False for a metric that runs NumPy code (its curve runs as a graph under xla)

    @property
    def metric_name(self) -> str:
        return self.name or self.type

    def metric_names(self) -> list[str]:
        """Names of the metrics this entry produces."""
        return [self.metric_name]

    def rows_per_block(self) -> int:
        """Consecutive rows that form one block of this metric (see the image metrics' ``draws``)."""
        return 1


def _hard(x):
    """Hard bits from bits or LLRs (Sionna's LLR sign convention: positive means 1)."""
    import tensorflow as tf

    return tf.cast(x > 0, tf.int32)


def _rate_stats(wrong, valid=None):
    """``errors`` and ``trials`` of a boolean error tensor ``[batch, ...]``, valid rows only."""
    import tensorflow as tf

    if valid is None:
        return {"errors": tf.reduce_sum(tf.cast(wrong, tf.int64)), "trials": tf.size(wrong, out_type=tf.int64)}
    rows = tf.cast(valid, tf.int64)
    per_row = tf.reduce_sum(tf.reshape(tf.cast(wrong, tf.int64), [tf.shape(wrong)[0], -1]), axis=-1)  # [batch]
    return {"errors": tf.reduce_sum(per_row * rows), "trials": tf.reduce_sum(rows) * tf.cast(tf.size(wrong[0]), tf.int64)}


def _mean_stats(per_block, valid=None):
    """``sum``, ``sum_sq``, ``count`` of per-block values ``[batch]``, valid rows only."""
    import tensorflow as tf

    per_block = tf.cast(per_block, tf.float64)
    weight = tf.ones_like(per_block) if valid is None else tf.cast(valid, tf.float64)
    return {"sum": tf.reduce_sum(weight * per_block), "sum_sq": tf.reduce_sum(weight * tf.square(per_block)),
            "count": tf.reduce_sum(weight)}


def _flat_blocks(x):
    import tensorflow as tf

    return tf.reshape(x, [tf.shape(x)[0], -1])  # [batch, elements]


@register("metric", "ber")
class BER(MetricParams):
    """Bit error rate between sent bits and hard decisions (bits or LLRs)."""

    type: Literal["ber"]

    def build(self):
        import tensorflow as tf

        def update(taps):
            return _rate_stats(tf.not_equal(_hard(taps[self.sent]), _hard(taps[self.received])), taps.get("valid"))

        return Metric(self.metric_name, "rate", update)


@register("metric", "bler")
class BLER(MetricParams):
    """Block error rate: a block (one batch row) with any bit error counts once."""

    type: Literal["bler"]

    def build(self):
        import tensorflow as tf

        def update(taps):
            wrong = tf.not_equal(_flat_blocks(_hard(taps[self.sent])), _flat_blocks(_hard(taps[self.received])))
            return _rate_stats(tf.reduce_any(wrong, axis=-1), taps.get("valid"))

        return Metric(self.metric_name, "rate", update)


@register("metric", "ser")
class SER(MetricParams):
    """Symbol (or label) error rate between two integer taps."""

    type: Literal["ser"]
    sent: str = Field(default="labels", min_length=1)

    def build(self):
        import tensorflow as tf

        def update(taps):
            return _rate_stats(tf.not_equal(tf.cast(taps[self.sent], tf.int64), tf.cast(taps[self.received], tf.int64)), taps.get("valid"))

        return Metric(self.metric_name, "rate", update)


@register("metric", "mse")
class MSE(MetricParams):
    """Mean squared error per block between two real or complex taps; mean ± t interval."""

    type: Literal["mse"]
    sent: str = Field(default="symbols", min_length=1)
    received: str = Field(default="received", min_length=1)
    kind: ClassVar[str] = "mean"

    def build(self):
        import tensorflow as tf

        def update(taps):
            diff = _flat_blocks(taps[self.sent]) - _flat_blocks(taps[self.received])
            return _mean_stats(tf.reduce_mean(tf.square(tf.abs(diff)), axis=-1), taps.get("valid"))

        return Metric(self.metric_name, "mean", update)


class _ImageMetric(MetricParams):
    """Per-image metrics: images tap by default, explicit data range.

    ``draws: R`` (with an ``images`` source of ``repeat: R``) groups the R consecutive rows of each
    image: the metric is then the mean over images of the per-image mean over the draws, and two
    more metrics ``<name>_min`` and ``<name>_max`` hold the means over images of the per-image
    lowest and highest draw (the band over resamplings).

    ``sent_channel: k`` compares channel k of the sent tap only (samples that carry more than the
    image, e.g. a CT volume with its label map), kept as a channel axis of one.
    """

    sent: str = Field(default="images", min_length=1)
    data_range: float = Field(default=1.0, gt=0, le=1e6)
    draws: int = Field(default=1, ge=1, le=10_000)
    sent_channel: int | None = Field(default=None, ge=0, le=4096)
    kind: ClassVar[str] = "mean"

    def metric_names(self) -> list[str]:
        name = self.metric_name
        return [name] if self.draws == 1 else [name, f"{name}_min", f"{name}_max"]

    def rows_per_block(self) -> int:
        return self.draws

    @abstractmethod
    def per_image(self, sent, received):
        """The metric of each row, ``[batch]``."""

    def build(self):
        import tensorflow as tf

        def values(taps):
            sent = taps[self.sent]
            if self.sent_channel is not None:
                sent = sent[..., self.sent_channel : self.sent_channel + 1]
            return self.per_image(sent, taps[self.received])

        if self.draws == 1:
            return Metric(self.metric_name, "mean", lambda taps: _mean_stats(values(taps), taps.get("valid")))

        def grouped(reduce):
            def update(taps):
                per_draw = tf.reshape(values(taps), [-1, self.draws])  # [images, draws]
                valid = taps.get("valid")
                return _mean_stats(reduce(per_draw, axis=-1), None if valid is None else tf.reshape(valid, [-1, self.draws])[:, 0])

            return update

        names = self.metric_names()
        return [Metric(n, "mean", grouped(r)) for n, r in zip(names, (tf.reduce_mean, tf.reduce_min, tf.reduce_max))]


@register("metric", "psnr")
class PSNR(_ImageMetric):
    """Whole-image PSNR in dB per image, 10·log10(data_range² / MSE); mean ± t interval."""

    type: Literal["psnr"]

    def per_image(self, sent, received):
        import tensorflow as tf

        peak = self.data_range**2
        diff = _flat_blocks(tf.cast(sent, tf.float64)) - _flat_blocks(tf.cast(received, tf.float64))
        mse = tf.maximum(tf.reduce_mean(tf.square(diff), axis=-1), peak * 1e-10)  # identical images: 100 dB
        return 10.0 * tf.math.log(peak / mse) / tf.math.log(tf.constant(10.0, tf.float64))


@register("metric", "ssim")
class SSIM(_ImageMetric):
    """SSIM per image (tf.image.ssim, 11×11 Gaussian window; images of at least 11×11; of a volume
    [D, H, W, C], the mean over its slices); mean ± t interval."""

    type: Literal["ssim"]

    def per_image(self, sent, received):
        import tensorflow as tf

        ssim = tf.image.ssim(tf.cast(sent, tf.float32), tf.cast(received, tf.float32), max_val=self.data_range)  # [batch, ...]
        return tf.reduce_mean(tf.reshape(ssim, [tf.shape(ssim)[0], -1]), axis=-1)


@register("metric", "power")
class Power(MetricParams):
    """Measured power of tap ``sent``: mean |x|² per element of a block (per real value, or per complex
    symbol), mean ± t interval; e.g. the transmit power behind an analog link's SNR."""

    type: Literal["power"]
    sent: str = Field(default="symbols", min_length=1)
    kind: ClassVar[str] = "mean"

    def build(self):
        import tensorflow as tf

        def update(taps):
            return _mean_stats(tf.reduce_mean(tf.square(tf.abs(_flat_blocks(taps[self.sent]))), axis=-1), taps.get("valid"))

        return Metric(self.metric_name, "mean", update)


def organ_key(label: int) -> str:
    """Metric-name form of an AMOS organ: ``right kidney`` → ``right_kidney``."""
    from linksim.ct_phantom import AMOS_LABELS

    return AMOS_LABELS[label].replace(" gland", "").replace("/", "_").replace(" ", "_")


def volume_scores(predicted, reference, organs, spacing):
    """Per volume and organ: Dice, IoU, HD95 (nan where undefined), the organ's presence in the
    reference and whether HD95 failed (an organ present in the reference and absent from the
    prediction); and the mean Dice over present organs and the voxel-weighted mean IoU.

    Input: predicted, reference [batch, D, H, W] label maps. Output: float64 arrays
    dice, iou, hd, present, failed [batch, organs]; mean_dice, miou [batch].
    """
    import numpy as np

    from linksim.segmentation_metrics import dice, hd95, iou, weighted_mean_iou

    batch, count = len(reference), len(organs)
    out = {k: np.full((batch, count), np.nan) for k in ("dice", "iou", "hd")}
    out["present"], out["failed"] = np.zeros((batch, count)), np.zeros((batch, count))
    mean_dice, miou = np.full(batch, np.nan), np.full(batch, np.nan)
    for b in range(batch):
        p, r = np.rint(predicted[b]).astype(np.int64), np.rint(reference[b]).astype(np.int64)
        for j, organ in enumerate(organs):
            if not np.any(r == organ):
                continue
            out["present"][b, j] = 1.0
            out["dice"][b, j], out["iou"][b, j] = dice(p, r, organ), iou(p, r, organ)
            distance = hd95(p, r, organ, spacing)
            out["hd"][b, j] = np.nan if distance is None else distance
            out["failed"][b, j] = float(distance is None)
        if out["present"][b].any():
            mean_dice[b] = np.nanmean(out["dice"][b][out["present"][b] > 0])
            miou[b] = weighted_mean_iou(p, r, list(organs))
    return out["dice"], out["iou"], out["hd"], out["present"], out["failed"], mean_dice, miou


@register("metric", "segmentation")
class SegmentationMetric(MetricParams):
    """Segmentation scores of AMOS label maps against the reference labels (channel 1 of CT samples):
    ``dice`` (mean over the organs present), ``miou_w`` (voxel-weighted mean IoU), and per organ ``dice_<organ>``,
    ``iou_<organ>``, ``hd95_<organ>`` (voxels × ``spacing``; over the volumes where it is defined) and
    ``hd95_fail_<organ>`` (the fraction of the volumes with the organ where the prediction lacks it: HD95
    "fail"). Means over volumes; per-organ scores over the volumes whose reference has the organ."""

    type: Literal["segmentation"]
    sent: str = Field(default="images", min_length=1)
    received: str = Field(default="segmentation", min_length=1)
    organs: list[Annotated[int, Field(ge=1, le=15)]] = Field(default=list(range(1, 16)), min_length=1, max_length=15)
    spacing: list[Annotated[float, Field(gt=0, le=1e3)]] = Field(default=[1.0, 1.0, 1.0], min_length=3, max_length=3)
    kind: ClassVar[str] = "mean"
    xla_compatible: ClassVar[bool] = False  # SciPy's distance transforms

    def metric_names(self):
        per_organ = [f"{k}_{organ_key(o)}" for o in self.organs for k in ("dice", "iou", "hd95", "hd95_fail")]
        return ["dice", "miou_w", *per_organ]

    def build(self):
        import tensorflow as tf

        organs, spacing = list(self.organs), tuple(self.spacing)
        last = {}  # the scores of the batch being traced: every metric of the entry reads one computation

        def scores(taps):
            if last.get("taps") is not taps:
                reference = taps[self.sent]
                reference = reference[..., 1] if len(reference.shape) == 5 else reference
                predicted = taps[self.received]
                predicted = predicted[..., 0] if len(predicted.shape) == 5 else predicted
                outs = tf.numpy_function(lambda p, r: volume_scores(p, r, organs, spacing), [predicted, reference],
                                         [tf.float64] * 7, stateful=False)
                valid = taps.get("valid")
                rows = tf.ones_like(outs[5]) if valid is None else tf.cast(valid, tf.float64)
                last.update(taps=taps, outs=outs, rows=rows)
            return last["outs"], last["rows"]

        def mean_of(values, weights):
            finite = tf.math.is_finite(values)
            return _mean_stats(tf.where(finite, values, tf.zeros_like(values)), tf.where(finite, weights, tf.zeros_like(weights)))

        def summary(position):
            def update(taps):
                outs, rows = scores(taps)
                return mean_of(outs[position], rows)
            return update

        def per_organ(position, j):
            def update(taps):
                outs, rows = scores(taps)
                return mean_of(outs[position][:, j], rows * outs[3][:, j])  # over the volumes with the organ in the reference
            return update

        metrics = [Metric("dice", "mean", summary(5)), Metric("miou_w", "mean", summary(6))]
        for j, organ in enumerate(organs):
            key = organ_key(organ)
            metrics += [Metric(f"{name}_{key}", "mean", per_organ(position, j))
                        for name, position in (("dice", 0), ("iou", 1), ("hd95", 2), ("hd95_fail", 4))]
        return metrics
