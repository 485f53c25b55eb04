"""Catalogue of metrics accumulated by the Monte Carlo runner.

A metric reduces one batch's taps to a few scalar statistics inside the graph, so only
counts leave it. Two kinds:

- ``rate``: ``errors`` out of ``trials`` (BER, BLER, SER) → exact-binomial or Wilson interval;
- ``mean``: ``sum``, ``sum_sq`` and ``count`` of a per-block value (MSE) → t interval.

Every number the CLI prints is recomputed from these counts as stored in the results file.
"""
from dataclasses import dataclass
from typing import Callable, ClassVar, Literal

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

    @property
    def metric_name(self) -> str:
        return self.name or self.type


def _hard(x):
    """Hard bits from bits or LLRs (Sionna's LLR sign convention: positive means 1)."""
    import tensorflow as tf

    return tf.cast(x > 0, tf.int32)


def _rate_stats(wrong):
    """``errors`` and ``trials`` of a boolean error tensor."""
    import tensorflow as tf

    return {"errors": tf.reduce_sum(tf.cast(wrong, tf.int64)), "trials": tf.size(wrong, out_type=tf.int64)}


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
            return _rate_stats(tf.not_equal(_hard(taps[self.sent]), _hard(taps[self.received])))

        return Metric(self.metric_name, "rate", update)


@register("metric", "bler")
class BLER(MetricParams):
    """Block error rate: a block (one batch row) with any bit error counts once."""

    type: Literal["bler"]

    def build(self):
        import tensorflow as tf

        def update(taps):
            wrong = tf.not_equal(_flat_blocks(_hard(taps[self.sent])), _flat_blocks(_hard(taps[self.received])))
            return _rate_stats(tf.reduce_any(wrong, axis=-1))

        return Metric(self.metric_name, "rate", update)


@register("metric", "ser")
class SER(MetricParams):
    """Symbol (or label) error rate between two integer taps."""

    type: Literal["ser"]
    sent: str = Field(default="labels", min_length=1)

    def build(self):
        import tensorflow as tf

        def update(taps):
            return _rate_stats(tf.not_equal(tf.cast(taps[self.sent], tf.int64), tf.cast(taps[self.received], tf.int64)))

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
            per_block = tf.cast(tf.reduce_mean(tf.square(tf.abs(diff)), axis=-1), tf.float64)
            return {
                "sum": tf.reduce_sum(per_block),
                "sum_sq": tf.reduce_sum(tf.square(per_block)),
                "count": tf.cast(tf.size(per_block), tf.float64),
            }

        return Metric(self.metric_name, "mean", update)
