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

from pydantic import Field, model_validator

from linksim.engine.registry import NAME_PATTERN, Params, register
from linksim.engine.stage import Signal

RATE_STATS = ("errors", "trials")
MEAN_STATS = ("sum", "sum_sq", "count")


@dataclass
class Metric:
    """Runtime metric: ``update(taps) -> {stat: scalar tensor}``.

    ``kind``: ``"rate"`` (errors out of trials) or ``"mean"``. ``stops``: the Monte Carlo stopping
    rule whose count this rate feeds: ``"errors"`` (``target_errors``, and the curve's end after an
    error-free point) or ``"block_errors"`` (``target_block_errors``); ``None`` for the others (a
    curve without an ``"errors"`` metric counts its first rate there).
    """

    name: str
    kind: str
    update: Callable
    stops: str | None = None

    @property
    def stats(self):
        return RATE_STATS if self.kind == "rate" else MEAN_STATS


class MetricParams(Params):
    """Common fields: the two taps to compare and an optional display name."""

    sent: str = Field(default="bits", min_length=1)
    received: str = Field(default="output", min_length=1)
    name: str | None = Field(default=None, pattern=NAME_PATTERN)  # results groups and figure names
    kind: ClassVar[str] = "rate"
    xla_compatible: ClassVar[bool] = True  # False for a metric that runs NumPy code (its curve runs as a graph under xla)

    @property
    def metric_name(self) -> str:
        return self.name or self.type

    def metric_names(self) -> list[str]:
        """Names of the metrics this entry produces."""
        return [self.metric_name]

    def rows_per_block(self) -> int:
        """Consecutive rows that form one block of this metric (see the image metrics' ``draws`` and ``tiles``)."""
        return 1

    def tile_grid(self) -> tuple[int, int] | None:
        """``(rows, cols)`` where the metric scores whole images from their tiles (``tiles``), else ``None``."""
        return None

    def compared(self, taps) -> tuple:
        """The two tensors this metric compares, from a batch's ``taps``: ``(sent, received)``."""
        return taps[self.sent], taps[self.received]

    def build_for(self, curve):
        """The runtime metric for ``curve`` (what :meth:`build` gives, for metrics that need nothing of the curve)."""
        return self.build()

    def counted(self, curve) -> str | None:
        """What one trial of this rate is in ``curve``, where it is worth saying (table headers), else ``None``."""
        return None

    def check_signals(self, sent, received) -> None:
        """``ValueError`` if the two taps (:class:`linksim.engine.stage.Signal`) cannot be compared.
        Default: equal sizes where both are known."""
        if sent.size is not None and received.size is not None and sent.size != received.size:
            raise ValueError(f"compares {sent.size} values per row of {self.sent!r} with {received.size} of {self.received!r}")


def _hard(x):
    """Hard bits from bits or LLRs (Sionna's LLR sign convention: positive means 1)."""
    import tensorflow as tf

    return tf.cast(x > 0, tf.int32)


def rate_stats(wrong, valid=None):
    """``errors`` and ``trials`` of a boolean error tensor ``[batch, ...]``, valid rows only."""
    import tensorflow as tf

    if valid is None:
        return {"errors": tf.reduce_sum(tf.cast(wrong, tf.int64)), "trials": tf.size(wrong, out_type=tf.int64)}
    rows = tf.cast(valid, tf.int64)
    per_row = tf.reduce_sum(tf.reshape(tf.cast(wrong, tf.int64), [tf.shape(wrong)[0], -1]), axis=-1)  # [batch]
    return {"errors": tf.reduce_sum(per_row * rows), "trials": tf.reduce_sum(rows) * tf.cast(tf.size(wrong[0]), tf.int64)}


def mean_stats(per_block, valid=None):
    """``sum``, ``sum_sq``, ``count`` of per-block values ``[batch]``, valid rows only."""
    import tensorflow as tf

    per_block = tf.cast(per_block, tf.float64)
    weight = tf.ones_like(per_block) if valid is None else tf.cast(valid, tf.float64)
    return {"sum": tf.reduce_sum(weight * per_block), "sum_sq": tf.reduce_sum(weight * tf.square(per_block)),
            "count": tf.reduce_sum(weight)}


def _flat_blocks(x):
    import tensorflow as tf

    return tf.reshape(x, [tf.shape(x)[0], -1])  # [batch, elements]


class _BitMetric(MetricParams):
    """A metric of two taps of bits or LLRs (hard-decided by sign) of one size."""

    def check_signals(self, sent, received):
        sent.expect("bits", "llrs")
        received.expect("bits", "llrs")
        super().check_signals(sent, received)

    def compared(self, taps) -> tuple:
        """Hard bits of both taps, float32 (LLRs decided by sign), as Sionna's ``sim_ber`` counts them."""
        import tensorflow as tf

        return tuple(tf.cast(_hard(taps[tap]), tf.float32) for tap in (self.sent, self.received))


@register("metric", "ber")
class BER(_BitMetric):
    """Bit error rate between sent bits and hard decisions (bits or LLRs)."""

    type: Literal["ber"]

    def build(self):
        import tensorflow as tf

        def update(taps):
            return rate_stats(tf.not_equal(_hard(taps[self.sent]), _hard(taps[self.received])), taps.get("valid"))

        return Metric(self.metric_name, "rate", update, stops="errors")


@register("metric", "bler")
class BLER(_BitMetric):
    """Block error rate: a codeword with any bit error counts once, per codeword where a channel decoder decided the bits.

    A trial is a codeword of the decoder that gave ``received`` (its ``k`` information bits), so three codewords in a
    row count three trials; elsewhere a trial is one batch row. ``block_bits: K`` counts blocks of K bits, ``block_bits:
    row`` one per row (e.g. an image lost when any of its codewords fails). Table headers say which.
    """

    type: Literal["bler"]
    block_bits: Annotated[int, Field(ge=1, le=2**31 - 1)] | Literal["row"] | None = None

    def block_length(self, curve) -> int | None:
        """Bits per counted block in ``curve``: ``block_bits``, else the deciding decoder's ``k``; ``None`` for rows."""
        if self.block_bits is not None:
            return None if self.block_bits == "row" else self.block_bits
        return curve.signals().get(self.received, Signal()).block

    def counted(self, curve) -> str:
        block = self.block_length(curve)
        return f"{self.metric_name} per codeword of {block} bits" if block else f"{self.metric_name} per row"

    def check_signals(self, sent, received):
        super().check_signals(sent, received)
        block = received.block if self.block_bits is None else None if self.block_bits == "row" else self.block_bits
        if block and sent.size is not None and sent.size % block:
            raise ValueError(f"counts blocks of {block} bits, but rows hold {sent.size} bits, not a multiple "
                             "(set 'block_bits' to a divisor, or 'row')")

    def build(self):
        return self._build(None)

    def build_for(self, curve):
        return self._build(self.block_length(curve))

    def _build(self, block):
        import tensorflow as tf

        def update(taps):
            sent, received = _flat_blocks(_hard(taps[self.sent])), _flat_blocks(_hard(taps[self.received]))
            if block is not None:  # [batch, codewords per row, block]
                sent, received = (tf.reshape(x, [tf.shape(x)[0], -1, block]) for x in (sent, received))
            return rate_stats(tf.reduce_any(tf.not_equal(sent, received), axis=-1), taps.get("valid"))  # [batch(, codewords)]

        return Metric(self.metric_name, "rate", update, stops="block_errors")


@register("metric", "ser")
class SER(MetricParams):
    """Symbol (or label) error rate between two integer taps."""

    type: Literal["ser"]
    sent: str = Field(default="labels", min_length=1)

    def build(self):
        import tensorflow as tf

        def update(taps):
            return rate_stats(tf.not_equal(tf.cast(taps[self.sent], tf.int64), tf.cast(taps[self.received], tf.int64)), taps.get("valid"))

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
            return mean_stats(tf.reduce_mean(tf.square(tf.abs(diff)), axis=-1), taps.get("valid"))

        return Metric(self.metric_name, "mean", update)


class _ImageMetric(MetricParams):
    """Per-image metrics: images tap by default, explicit data range.

    ``draws: R`` (with an ``images`` source of ``repeat: R``) groups the R consecutive rows of each
    image: the metric is then the mean over images of the per-image mean over the draws, and two
    more metrics ``<name>_min`` and ``<name>_max`` hold the means over images of the per-image
    lowest and highest draw (the band over resamplings).

    ``sent_channel: k`` compares channel k of the sent tap only (samples that carry more than the
    image, e.g. a volume with its label map), kept as a channel axis of one.

    ``tiles: [rows, cols]`` scores whole images that were sent as tiles: the rows·cols consecutive
    rows of each image (its tiles, row by row, as the ``image-folder`` dataset cuts them) are put
    back together, sent and received alike, and the metric is computed once on the whole image.
    The validation checks that every test image is exactly such a grid.

    ``clip: true`` clips the received values to [0, data_range] before scoring, the usual convention
    for images (a displayed image is clipped). It changes nothing for a decoder whose output stays in
    range (a sigmoid); one whose output leaves it (a linear last layer) otherwise pays for errors that
    the clipped image does not have, and its PSNR is lower than the image's.
    """

    sent: str = Field(default="images", min_length=1)
    data_range: float = Field(default=1.0, gt=0, le=1e6)
    draws: int = Field(default=1, ge=1, le=10_000)
    sent_channel: int | None = Field(default=None, ge=0, le=4096)
    tiles: list[Annotated[int, Field(ge=1, le=1024)]] | None = Field(default=None, min_length=2, max_length=2)
    clip: bool = False
    kind: ClassVar[str] = "mean"
    added_later: ClassVar[dict] = {"tiles": None, "clip": False}

    @model_validator(mode="after")
    def _tiles_or_draws(self):
        if self.tiles is not None and self.draws != 1:
            raise ValueError("'tiles' and 'draws' cannot be combined: score whole images of one draw each")
        return self

    def metric_names(self) -> list[str]:
        name = self.metric_name
        return [name] if self.draws == 1 else [name, f"{name}_min", f"{name}_max"]

    def rows_per_block(self) -> int:
        return self.draws if self.tiles is None else self.tiles[0] * self.tiles[1]

    def tile_grid(self):
        return None if self.tiles is None else tuple(self.tiles)

    @abstractmethod
    def per_image(self, sent, received):
        """The metric of each row, ``[batch]``."""

    def build(self):
        import tensorflow as tf

        def values(taps):
            sent = taps[self.sent]
            if self.sent_channel is not None:
                sent = sent[..., self.sent_channel : self.sent_channel + 1]
            received = taps[self.received]
            if self.clip:
                received = tf.clip_by_value(received, tf.cast(0, received.dtype), tf.cast(self.data_range, received.dtype))
            return self.per_image(sent, received)

        if self.tiles is not None:
            def whole_images(taps):
                stitched = {key: stitch_tiles(taps[key], *self.tiles) for key in {self.sent, self.received}}
                valid = taps.get("valid")
                return mean_stats(values(stitched), None if valid is None else valid[:: self.rows_per_block()])

            return Metric(self.metric_name, "mean", whole_images)
        if self.draws == 1:
            return Metric(self.metric_name, "mean", lambda taps: mean_stats(values(taps), taps.get("valid")))

        def grouped(reduce):
            def update(taps):
                per_draw = tf.reshape(values(taps), [-1, self.draws])  # [images, draws]
                valid = taps.get("valid")
                return mean_stats(reduce(per_draw, axis=-1), None if valid is None else tf.reshape(valid, [-1, self.draws])[:, 0])

            return update

        names = self.metric_names()
        return [Metric(n, "mean", grouped(r)) for n, r in zip(names, (tf.reduce_mean, tf.reduce_min, tf.reduce_max))]


def stitch_tiles(tiles, rows: int, cols: int):
    """Whole images from their tiles: ``[images·rows·cols, h, w, C]`` (each image's tiles row by
    row) → ``[images, rows·h, cols·w, C]``; the inverse of
    :func:`linksim.catalogue.image_files.cut_patches`."""
    import tensorflow as tf

    h, w, c = tiles.shape[1], tiles.shape[2], tiles.shape[3]
    grid = tf.reshape(tiles, [-1, rows, cols, h, w, c])
    return tf.reshape(tf.transpose(grid, [0, 1, 3, 2, 4, 5]), [-1, rows * h, cols * w, c])


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


def _mean_power(x, valid):
    """Mean |x|² per block ([batch, ...] → per-row means) as mean statistics."""
    import tensorflow as tf

    return mean_stats(tf.reduce_mean(tf.square(tf.abs(_flat_blocks(x))), axis=-1), valid)


def power_metric(name: str, tap: str) -> Metric:
    """The measured mean power of tap ``tap`` (a noise channel's input), which the engine adds to every
    curve with such a channel: per element (real value or complex symbol), one block per row."""
    return Metric(name, "mean", lambda taps: _mean_power(taps[tap], taps.get("valid")))


def statistic_metric(name: str, tap: str) -> Metric:
    """The mean of a per-row statistic a stage measured (tap ``tap``, [batch]), which the engine adds
    to every curve with such a stage (e.g. a decoder's ``iterations``)."""
    return Metric(name, "mean", lambda taps: mean_stats(taps[tap], taps.get("valid")))


@register("metric", "power")
class Power(MetricParams):
    """Measured power of tap ``sent``: mean |x|² per element of a block (per real value, or per complex
    symbol), mean ± t interval; e.g. the transmit power behind an analog link's SNR."""

    type: Literal["power"]
    sent: str = Field(default="symbols", min_length=1)
    kind: ClassVar[str] = "mean"

    def build(self):
        return power_metric(self.metric_name, self.sent)


@register("metric", "mean")
class Mean(MetricParams):
    """Mean of tap ``sent`` (elements ``start`` … ``stop`` − 1 of each flattened row, default all), one
    block per row, mean ± t interval: a statistic of what a stage outputs, e.g. the variances a
    variational encoder sends (the second half of its moments)."""

    type: Literal["mean"]
    sent: str = Field(default="output", min_length=1)
    start: int = Field(default=0, ge=0, le=2**31 - 1)
    stop: int | None = Field(default=None, ge=1, le=2**31 - 1)
    kind: ClassVar[str] = "mean"

    @model_validator(mode="after")
    def _ordered(self):
        if self.stop is not None and self.stop <= self.start:
            raise ValueError(f"'stop' ({self.stop}) must be greater than 'start' ({self.start})")
        return self

    def check_signals(self, sent, received) -> None:
        if sent.kind == "symbols":
            raise ValueError(f"averages real values, but {self.sent!r} holds complex symbols (use 'power')")
        if sent.size is not None and (self.stop or self.start + 1) > sent.size:
            raise ValueError(f"reads elements {self.start} … {(self.stop or sent.size) - 1} of {self.sent!r}, which has {sent.size} per row")

    def build(self):
        import tensorflow as tf

        start, stop, tap = self.start, self.stop, self.sent

        def update(taps):
            values = _flat_blocks(taps[tap])[:, start:stop]
            return mean_stats(tf.reduce_mean(tf.cast(values, tf.float64), axis=-1), taps.get("valid"))

        return Metric(self.metric_name, "mean", update)
