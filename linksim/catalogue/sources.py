"""Catalogue of sources: what a link sends (bits, labels, Gaussian latents, dataset samples)."""
import math
from typing import ClassVar, Literal

from pydantic import Field

from linksim.engine.registry import register
from linksim.engine.stage import Signal, StageParams, make_stage

__all__ = ["BitsSource", "LabelsSource", "GaussianSource", "DatasetSource"]


@register("source", "bits")
class BitsSource(StageParams):
    """i.i.d. fair bits, ``num_bits`` per block: [batch, num_bits] float32."""

    type: Literal["bits"]
    num_bits: int = Field(gt=0, le=2**24)

    tap_default: ClassVar[str] = "bits"

    def block_size(self, data) -> int:
        return self.num_bits

    def signal(self, received):
        return Signal("bits", self.num_bits)

    def build(self, context):
        from linksim.phy.bit_source import random_bits

        return make_stage(self, None, lambda _, ctx: random_bits(ctx.batch_size, self.num_bits, ctx.seed))


@register("source", "labels")
class LabelsSource(StageParams):
    """Uniform integer labels in [0, num_classes): [batch, num_labels] int32."""

    type: Literal["labels"]
    num_labels: int = Field(gt=0, le=2**24)
    num_classes: int = Field(ge=2, le=2**16)

    tap_default: ClassVar[str] = "labels"

    def block_size(self, data) -> int:
        return self.num_labels

    def build(self, context):
        import tensorflow as tf

        def apply(_, ctx):
            return tf.random.stateless_uniform([ctx.batch_size, self.num_labels], ctx.seed, minval=0, maxval=self.num_classes, dtype=tf.int32)

        return make_stage(self, None, apply)


@register("source", "gaussian")
class GaussianSource(StageParams):
    """Real Gaussian latents N(0, std²): [batch, size] float32 (analog links)."""

    type: Literal["gaussian"]
    size: int = Field(gt=0, le=2**24)
    std: float = Field(default=1.0, gt=0, le=1e12)

    tap_default: ClassVar[str] = "latent"

    def block_size(self, data) -> int:
        return self.size

    def build(self, context):
        import tensorflow as tf

        def apply(_, ctx):
            return self.std * tf.random.stateless_normal([ctx.batch_size, self.size], ctx.seed)

        return make_stage(self, None, apply)


@register("source", "images")
class DatasetSource(StageParams):
    """Samples of the scenario's dataset, in order: [batch, *sample_shape] float32 in its value range
    (images: [batch, H, W, 3] in [0, 1]).

    Chunk k holds samples k·batch … k·batch + batch − 1 of the split (cycling); rows past
    ``max_samples`` are marked invalid, so ``max_samples`` = the split's size evaluates each
    sample exactly once per point. With ``repeat: R`` every sample fills R consecutive rows (R
    independent passes through the link, e.g. R resamplings at a receiver): chunk k then holds
    samples k·batch/R …, and ``max_samples`` = R × the split's size sends each sample R times.
    """

    type: Literal["images"]
    split: Literal["test", "train"] = "test"
    repeat: int = Field(default=1, ge=1, le=10_000)

    tap_default: ClassVar[str] = "images"
    reads_dataset: ClassVar[bool] = True
    evaluation_only: ClassVar[tuple[str, ...]] = ("split", "repeat")  # training reads the training split itself
    figures: ClassVar[tuple[str, ...]] = ("reconstructions",)

    def block_size(self, data) -> int:
        return math.prod(data.split_shape(self.split))

    def batch_multiple(self) -> int:
        return self.repeat

    def build(self, context):
        import tensorflow as tf

        samples = context.data.load(self.split, context.seed)
        store = tf.Variable(samples, trainable=False, name="samples")  # a variable, not a graph constant
        stored_max = context.data.stored_max

        def apply(_, ctx):
            batch = tf.cast(ctx.batch_size, tf.int64)  # a Python int in linksim's sweep, a tensor under Sionna's sim_ber
            rows = tf.cast(ctx.chunk, tf.int64) * batch + tf.range(batch, dtype=tf.int64)
            if ctx.max_samples is not None:
                ctx.valid = rows < ctx.max_samples
            sample = rows if self.repeat == 1 else rows // self.repeat
            batch = tf.gather(store, sample % len(samples))
            return tf.cast(batch, tf.float32) / stored_max

        return make_stage(self, store, apply)
