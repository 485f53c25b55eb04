"""Conditional DDPM of DiSC-Med's reconstruction module: schedule, ε-prediction loss, DDIM sampler.

Ho et al.'s variance-preserving chain: a linear β schedule over ``num_steps`` (1e-4 … 0.02 over
1000 steps, DDPM's), ᾱ_t = Π(1 − β_s), and x_t = √ᾱ_t x_0 + √(1 − ᾱ_t) ε. The network predicts ε
from (x_t, t, condition) and trains on E‖ε − ε_θ‖² (the paper's eq. 5). ``prediction: v`` trains the
network on v = √ᾱ_t ε − √(1 − ᾱ_t) x_0 instead (Salimans & Ho's v-parameterisation) and reads ε back
as √(1 − ᾱ_t) x_t + √ᾱ_t v̂: ε-prediction weighs the error of the implied x_0 by the SNR ᾱ/(1 − ᾱ),
about 4e-5 at the chain's start, so the start of the chain — where the sampler settles the image's
low frequencies — is barely trained; v weighs it by 1 + SNR. The paper samples with the
full DDPM chain; on a CPU the deterministic DDIM update (η = 0) over a subsequence of the steps is
used instead, with a configurable step count (``sampling_steps`` = ``num_steps`` walks every step).

The sampler takes an ``eps_fn(x_t, t, condition)`` callable rather than a network, so that it is
tested with exact oracles.
"""
import numpy as np
import tensorflow as tf

__all__ = ["PREDICTIONS", "DDPMSchedule", "q_sample", "prediction_loss", "eps_from_prediction", "ddim_sample", "ddpm_sample"]

PREDICTIONS = ("epsilon", "v")


class DDPMSchedule:
    """β_t, ᾱ_t for t = 0 … num_steps − 1 (float64 NumPy; ``alpha_bar`` also as float32 TF)."""

    def __init__(self, num_steps: int = 1000, beta_start: float = 1e-4, beta_end: float = 0.02):
        if num_steps < 2 or not 0 < beta_start < beta_end < 1:
            raise ValueError("need num_steps ≥ 2 and 0 < beta_start < beta_end < 1")
        self.num_steps = int(num_steps)
        self.beta = np.linspace(beta_start, beta_end, self.num_steps)
        self.alpha_bar = np.cumprod(1.0 - self.beta)
        self.alpha_bar_tf = tf.constant(self.alpha_bar, tf.float32)

    def sampling_timesteps(self, steps: int) -> np.ndarray:
        """``steps`` timesteps from num_steps − 1 down to 0, evenly spaced (DDIM's subsequence)."""
        if not 1 <= steps <= self.num_steps:
            raise ValueError(f"sampling steps must be in 1…{self.num_steps}, got {steps}")
        return np.unique(np.linspace(0, self.num_steps - 1, steps).round().astype(int))[::-1]


def _broadcast(values, like):
    return tf.reshape(values, [-1] + [1] * (len(like.shape) - 1))


def _alpha_bar(schedule, t, like):
    return _broadcast(tf.gather(schedule.alpha_bar_tf, t), like)


def q_sample(schedule: DDPMSchedule, x0, t, eps):
    """x_t = √ᾱ_t x_0 + √(1 − ᾱ_t) ε.

    Input
    -----
    x0, eps : [batch, ...] float32
    t : [batch] int32
    """
    alpha_bar = _alpha_bar(schedule, t, x0)
    return tf.sqrt(alpha_bar) * x0 + tf.sqrt(1.0 - alpha_bar) * eps


def prediction_loss(net_fn, schedule: DDPMSchedule, x0, condition, t, eps, prediction: str = "epsilon"):
    """Mean per element of ‖target − net(x_t, t, c)‖², target ε (eq. 5) or v, for given t [batch] and ε."""
    x_t = q_sample(schedule, x0, t, eps)
    if prediction == "epsilon":
        target = eps
    else:
        alpha_bar = _alpha_bar(schedule, t, x0)
        target = tf.sqrt(alpha_bar) * eps - tf.sqrt(1.0 - alpha_bar) * x0
    return tf.reduce_mean(tf.square(target - net_fn(x_t, t, condition)))


def eps_from_prediction(schedule: DDPMSchedule, x_t, t, output, prediction: str = "epsilon"):
    """The ε that a network output ([batch, ...]) stands for: itself, or √(1 − ᾱ_t) x_t + √ᾱ_t v."""
    if prediction == "epsilon":
        return output
    alpha_bar = _alpha_bar(schedule, t, x_t)
    return tf.sqrt(1.0 - alpha_bar) * x_t + tf.sqrt(alpha_bar) * output


def ddim_sample(eps_fn, schedule: DDPMSchedule, x_start, condition, steps: int, clip: tuple[float, float] | None = None):
    """Deterministic DDIM (η = 0) from x_start at t = num_steps − 1 down to x_0.

    With ``clip``, every step's prediction of x_0 is clipped to that range and ε re-derived from it
    (the ``clip_denoised`` of the DDPM and DDIM reference code): early in the chain, where √ᾱ_t is
    tiny, an imperfect ε-network's x_0 estimate is far outside the data range and would carry the
    trajectory away.

    Input
    -----
    x_start : [batch, ...] float32 — usually N(0, I)
    condition : anything ``eps_fn`` takes

    Output
    ------
    : [batch, ...] float32 — x̂_0
    """
    timesteps = schedule.sampling_timesteps(steps)
    x = tf.convert_to_tensor(x_start, tf.float32)
    batch = tf.shape(x)[0]
    for i, t in enumerate(timesteps):
        alpha_bar = float(schedule.alpha_bar[t])
        eps = eps_fn(x, tf.fill([batch], int(t)), condition)
        x0 = (x - np.sqrt(1.0 - alpha_bar) * eps) / np.sqrt(alpha_bar)
        if clip is not None:
            x0 = tf.clip_by_value(x0, *clip)
            eps = (x - np.sqrt(alpha_bar) * x0) / np.sqrt(1.0 - alpha_bar)
        if i + 1 == len(timesteps):
            return x0
        previous = float(schedule.alpha_bar[timesteps[i + 1]])
        x = np.sqrt(previous) * x0 + np.sqrt(1.0 - previous) * eps
    return x


def ddpm_sample(eps_fn, schedule: DDPMSchedule, x_start, condition, seed):
    """The full ancestral DDPM chain of eq. 5, t = T … 1 (σ_t² = β_t, no noise in the last step),
    as one ``tf.while_loop`` (T U-Net passes).

    Input
    -----
    x_start : [batch, ...] float32 — x_T, usually N(0, I)
    condition : anything ``eps_fn`` takes
    seed : [2] int32 — stateless seed of the per-step noise z

    Output
    ------
    : [batch, ...] float32 — x_0
    """
    alpha = tf.constant(1.0 - schedule.beta, tf.float32)
    beta = tf.constant(schedule.beta, tf.float32)
    x = tf.convert_to_tensor(x_start, tf.float32)
    batch = tf.shape(x)[0]

    def step(t, x):
        eps = eps_fn(x, tf.fill([batch], t), condition)
        mean = (x - beta[t] / tf.sqrt(1.0 - schedule.alpha_bar_tf[t]) * eps) / tf.sqrt(alpha[t])
        z = tf.random.stateless_normal(tf.shape(x), tf.random.experimental.stateless_fold_in(seed, t))
        return t - 1, mean + tf.cast(t > 0, tf.float32) * tf.sqrt(beta[t]) * z

    _, x = tf.while_loop(lambda t, x: t >= 0, step, (tf.constant(schedule.num_steps - 1), x))
    return x
