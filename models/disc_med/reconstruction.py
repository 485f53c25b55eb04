"""DiSC-Med's Reconstruction Module: a conditional DDPM that draws each CT slice from its
semantic condition (eq. 4: class probabilities and edge map, concatenated).

The ε-network is the slice U-Net, its input x_t concatenated with the condition (and the pixel
coordinates), its FiLM condition the embedded timestep. Training minimises eq. 5's noise-prediction
loss on clean slices scaled to [−1, 1] with the clean semantics as condition (the paper trains the
DDPM before and apart from the channel). Sampling starts from N(0, I) drawn from the link's
stateless seed; ``sampler: ddpm`` runs the paper's full ancestral chain (eq. 5, ``num_steps`` U-Net
passes per slice), ``sampler: ddim`` deterministic DDIM with ``sampling_steps`` steps (the CPU
scale's choice), its x_0 predictions clipped to the data range [−1, 1] as the DDIM reference code does.
"""
import keras
import tensorflow as tf

from linksim.models.checks import check_positive_ints
from linksim.models.disc_med.ddpm import PREDICTIONS, DDPMSchedule, ddim_sample, ddpm_sample, eps_from_prediction, prediction_loss
from linksim.models.disc_med.slices import coordinates, from_slices, to_slices
from linksim.models.disc_med.film import TimestepEmbedding
from linksim.models.disc_med.unet import ConditionalUNet

__all__ = ["DDPMReconstructor"]


@keras.saving.register_keras_serializable(package="linksim")
class DDPMReconstructor(keras.layers.Layer):
    """Conditional DDPM over CT slices.

    Parameters
    ----------
    num_classes : int
    filters, levels : int
        Of the ε-network's U-Net.
    num_steps : int
        T of the training schedule (linear β from 1e-4 to 0.02, as DDPM).
    sampling_steps : int
        DDIM steps at the receiver (≤ num_steps).
    sampler : "ddim" | "ddpm"
        DDIM with ``sampling_steps`` steps, or the full DDPM chain (eq. 5).
    prediction : "epsilon" | "v"
        What the U-Net predicts: ε (eq. 5) or v (see :mod:`linksim.models.disc_med.ddpm`).
    attention_levels : int
        Lowest resolutions of the U-Net, bottleneck first, followed by self-attention (III-C2).

    Input
    -----
    condition : [batch, D, H, W, C + 1] float32
    seed : [2] int32

    Output
    ------
    : [batch, D, H, W, 1] float32 — CT in [0, 1]
    """

    def __init__(self, num_classes: int, filters: int = 16, levels: int = 3, num_steps: int = 1000, sampling_steps: int = 25,
                 embedding: int = 32, sampler: str = "ddim", prediction: str = "epsilon", attention_levels: int = 0, **kwargs):
        super().__init__(**kwargs)
        check_positive_ints(num_classes=num_classes, filters=filters, levels=levels, num_steps=num_steps,
                            sampling_steps=sampling_steps, embedding=embedding)
        self.num_classes, self.filters, self.levels = int(num_classes), int(filters), int(levels)
        self.num_steps, self.sampling_steps, self.embedding_units = int(num_steps), int(sampling_steps), int(embedding)
        if sampler not in ("ddim", "ddpm"):
            raise ValueError(f"sampler must be 'ddim' or 'ddpm', got {sampler!r}")
        if prediction not in PREDICTIONS:
            raise ValueError(f"prediction must be one of {PREDICTIONS}, got {prediction!r}")
        self.sampler, self.prediction = sampler, prediction
        self.schedule = DDPMSchedule(self.num_steps)
        self.schedule.sampling_timesteps(self.sampling_steps)  # refuses steps > num_steps now
        self.time_embedding = TimestepEmbedding(self.embedding_units)
        self.attention_levels = int(attention_levels)
        self.unet = ConditionalUNet(self.filters, 1, self.levels, self.attention_levels)

    def network(self, x_t, t, condition):
        """The U-Net's ε or v: x_t [n, H, W, 1], t [n] int32, c [n, H, W, C + 1] → [n, H, W, 1]."""
        count, height, width = tf.shape(x_t)[0], x_t.shape[1], x_t.shape[2]
        inputs = tf.concat([x_t, condition, coordinates(count, height, width)], -1)
        return self.unet(inputs, self.time_embedding(t))

    def eps(self, x_t, t, condition):
        """ε_θ(x_t, t, c), shapes as :meth:`network`."""
        return eps_from_prediction(self.schedule, x_t, t, self.network(x_t, t, condition), self.prediction)

    def loss(self, ct, condition, seed):
        """Eq. 5 (or its v form) on the slices of clean CT volumes [batch, D, H, W, 1] in [0, 1] under ``condition``."""
        x0 = 2.0 * to_slices(ct) - 1.0
        condition = to_slices(condition)
        t_seed, eps_seed = tf.unstack(tf.random.split(seed, 2))
        t = tf.random.stateless_uniform([tf.shape(x0)[0]], t_seed, 0, self.num_steps, dtype=tf.int32)
        eps = tf.random.stateless_normal(tf.shape(x0), eps_seed)
        return prediction_loss(self.network, self.schedule, x0, condition, t, eps, self.prediction)

    def call(self, condition, seed):
        depth = condition.shape[1]
        slices = to_slices(condition)  # [batch·D, H, W, C + 1]
        start_seed, chain_seed = tf.unstack(tf.random.split(seed, 2))
        start = tf.random.stateless_normal(tf.concat([tf.shape(slices)[:3], [1]], 0), start_seed)
        if self.sampler == "ddpm":
            x0 = ddpm_sample(self.eps, self.schedule, start, slices, chain_seed)
        else:
            x0 = ddim_sample(self.eps, self.schedule, start, slices, self.sampling_steps, clip=(-1.0, 1.0))
        return from_slices(tf.clip_by_value((x0 + 1.0) / 2.0, 0.0, 1.0), depth)

    def get_config(self):
        return {**super().get_config(), "num_classes": self.num_classes, "filters": self.filters, "levels": self.levels,
                "num_steps": self.num_steps, "sampling_steps": self.sampling_steps, "embedding": self.embedding_units,
                "sampler": self.sampler, "prediction": self.prediction, "attention_levels": self.attention_levels}
