"""Segmentation metrics of CT label maps: Dice, IoU and HD95 per AMOS organ, and their summaries.

The per-volume scores are computed in NumPy (:mod:`.segmentation`) and reach the Monte Carlo runner
as the mean statistics of :class:`~linksim.catalogue.metrics.MetricParams`.
"""
from typing import Annotated, ClassVar, Literal

from pydantic import Field

from linksim.catalogue.metrics import Metric, MetricParams, mean_stats
from linksim.engine.registry import register

__all__ = ["organ_key", "volume_scores", "SegmentationMetric"]


def organ_key(label: int) -> str:
    """Metric-name form of an AMOS organ: ``right kidney`` → ``right_kidney``."""
    from linksim.domains.medical.ct_phantom import AMOS_LABELS

    return AMOS_LABELS[label].replace(" gland", "").replace("/", "_").replace(" ", "_")


def volume_scores(predicted, reference, organs, spacing):
    """Per volume and organ: Dice, IoU, HD95 (nan where undefined), the organ's presence in the
    reference and whether HD95 failed (an organ present in the reference and absent from the
    prediction); and the mean Dice over present organs and the voxel-weighted mean IoU.

    Input: predicted, reference [batch, D, H, W] label maps. Output: float64 arrays
    dice, iou, hd, present, failed [batch, organs]; mean_dice, miou [batch].
    """
    import numpy as np

    from linksim.domains.medical.segmentation import dice, hd95, iou, weighted_mean_iou

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
            return mean_stats(tf.where(finite, values, tf.zeros_like(values)), tf.where(finite, weights, tf.zeros_like(weights)))

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
