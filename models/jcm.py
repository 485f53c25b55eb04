"""JCM's Gumbel-softmax modulator: logits over PAM levels → Gray square-QAM symbols.

Per channel use the encoder gives logits over the ``√M`` amplitude levels of the I axis and of
the Q axis. In training, a straight-through Gumbel-softmax sample picks one level per axis: the
forward pass uses the hard one-hot choice, so every output is a valid constellation point, while
the gradient flows through the relaxed softmax (Jang et al. 2017; JCM, Bo et al., TCOM 2024). In
evaluation the most likely level is taken. Levels are those of :func:`phy.make_constellation`'s
unit-energy QAM, and :meth:`GumbelQAM.labels` gives each choice's Gray bit label per axis.
"""
import keras
import numpy as np
import tensorflow as tf

from phy.constellations import axis_labels, make_constellation, modulation_info

__all__ = ["GumbelQAM"]


@keras.saving.register_keras_serializable(package="linksim")
class GumbelQAM(keras.layers.Layer):
    """Straight-through Gumbel-softmax choice of square-QAM points.

    Parameters
    ----------
    modulation : str
        ``qpsk``, ``qam16``, ``qam64`` or ``qam256``.
    temperature : float
        Gumbel-softmax temperature τ > 0.

    Input
    -----
    logits : [batch, n, 2, L], float32
        Unnormalised log-probabilities of the L = √M levels of the I (index 0) and Q (index 1) axes.
    training : bool
        Gumbel sampling with a straight-through gradient when True; argmax otherwise.
    seed : None or [2] int32
        Stateless seed of the Gumbel noise (training only).

    Output
    ------
    : [batch, n], complex64 — points of the unit-energy constellation.
    """

    def __init__(self, modulation: str = "qam64", temperature: float = 1.0, **kwargs):
        super().__init__(**kwargs)
        info = modulation_info(modulation)
        if info.constellation_type != "qam":
            raise ValueError(f"GumbelQAM needs a square QAM modulation, got {modulation!r}")
        if not temperature > 0:
            raise ValueError(f"temperature must be positive, got {temperature!r}")
        self.modulation, self.temperature = modulation, float(temperature)
        labels, spacing = axis_labels(make_constellation(modulation), 2)
        self.num_levels = len(labels)
        self._levels = tf.constant((2 * np.arange(self.num_levels) - self.num_levels + 1) * spacing, tf.float32)  # [L]
        self._labels = tf.constant(labels, tf.int32)

    def choose(self, logits, training=False, seed=None):
        """One-hot level choices [batch, n, 2, L] (straight-through in training)."""
        logits = tf.convert_to_tensor(logits, tf.float32)
        hard_from = logits
        if training:
            uniform = tf.random.stateless_uniform(tf.shape(logits), seed if seed is not None else [0, 0], minval=1e-10, maxval=1.0)
            soft = tf.nn.softmax((logits - tf.math.log(-tf.math.log(uniform))) / self.temperature, axis=-1)
            hard = tf.one_hot(tf.argmax(soft, axis=-1), self.num_levels)
            return hard + soft - tf.stop_gradient(soft)
        return tf.one_hot(tf.argmax(hard_from, axis=-1), self.num_levels)

    def call(self, logits, training=False, seed=None):
        amplitude = tf.reduce_sum(self.choose(logits, training, seed) * self._levels, axis=-1)  # [batch, n, 2]
        return tf.complex(amplitude[..., 0], amplitude[..., 1])

    def labels(self, logits):
        """Gray bit labels of the evaluation choices per axis: [batch, n, 2] int32."""
        return tf.gather(self._labels, tf.argmax(tf.convert_to_tensor(logits, tf.float32), axis=-1, output_type=tf.int32))

    def get_config(self):
        return {**super().get_config(), "modulation": self.modulation, "temperature": self.temperature}
