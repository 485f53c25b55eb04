"""A scenario curve as a Sionna ``Block``: Sionna's ``sim_ber`` and ``PlotBER`` run it unchanged.

:meth:`linksim.Scenario.link` builds it: the curve's link holding its trained weights, with the
scenario's SNR convention and signal power. Each call is one batch with fresh randomness from the
block's own generator (seeded once), and a data source moves on through its split from call to call.
"""
import numpy as np
import tensorflow as tf
from sionna.phy import Block

__all__ = ["CurveLink"]


class CurveLink(Block):
    r"""One curve of a scenario as a Sionna block: ``(batch_size, snr_db) → (sent, received)``.

    Follows the contract of Sionna's ``sim_ber`` (``mc_fun(batch_size, ebno_db)``): the SNR argument
    may be passed as ``snr_db`` or ``ebno_db`` and is read in the **scenario's convention**
    (``esno``, ``ebno`` or ``snr``, :attr:`convention`), whatever its name. Runs in eager mode, in a
    ``tf.function`` and under XLA where every stage of the curve compiles.

    Parameters
    ----------
    link : linksim.engine.link.Link
        The curve's link, holding its weights, its signal power calibrated.
    metric : linksim.catalogue.metrics.MetricParams
        The metric whose two taps the block returns, as the metric compares them (hard bits for
        BER/BLER).
    batch_size : int
        The batch size the block uses where a call's ``batch_size`` is a symbolic tensor (inside
        ``sim_ber``'s ``graph`` and ``xla`` modes): linksim's stages need static shapes, so give
        ``sim_ber`` the same batch size (a mismatch fails an assertion).
    seed : int
        Seed of the block's random stream (noise, data draws).
    name : str
        The curve's results name.
    precision : None | "single" | "double"
        Sionna's precision argument.

    Input
    -----
    batch_size : int
        Blocks (rows) per call.
    snr_db : float
        SNR in dB, in the scenario's convention (also accepted as ``ebno_db``).

    Output
    ------
    sent : [batch_size, ...]
        The metric's first tap (e.g. the bits sent, float32 0/1, or the images).
    received : [batch_size, ...]
        Its second tap (e.g. the decided bits, or the reconstructions).
    """

    def __init__(self, link, metric, batch_size: int, seed: int = 0, name: str = "", precision=None):
        super().__init__(precision=precision)
        self._link, self._metric, self.name = link, metric, name
        self.batch_size = int(batch_size)
        self._generator = tf.random.Generator.from_seed(int(seed))
        self._chunk = tf.Variable(0, dtype=tf.int32, trainable=False, name="chunk")
        self._no_at_0db = float(link.noise_variance(0.0))
        self._with_point_values = any(s.point_value for s in link.stages)

    @property
    def convention(self) -> str:
        """The SNR convention the block reads its SNR argument in."""
        return self._link.convention

    @property
    def link(self):
        """The underlying :class:`linksim.engine.link.Link` (all taps: ``block.link(...)``)."""
        return self._link

    def learned_layers(self) -> dict:
        """``{tap: Keras layer}`` of the curve's learned stages, holding the trained weights."""
        return {s.tap: s.block for s in self._link.stages if s.learned}

    def _point_values(self, snr_db):
        if not self._with_point_values:
            return tf.zeros([len(self._link.stages)], tf.float32)
        values = tf.numpy_function(lambda s: np.asarray(self._link.point_values(float(s)), np.float32), [snr_db], tf.float32)
        return tf.ensure_shape(values, [len(self._link.stages)])

    def call(self, batch_size, snr_db=None, ebno_db=None):
        if (snr_db is None) == (ebno_db is None):
            raise ValueError("give the SNR once, as snr_db or as ebno_db (read in the scenario's convention)")
        static = tf.get_static_value(batch_size)
        if static is None:
            tf.debugging.assert_equal(tf.cast(batch_size, tf.int64), tf.constant(self.batch_size, tf.int64),
                                      message="CurveLink: call it with the batch_size it was made with (Scenario.link(..., batch_size=))")
        batch_size = self.batch_size if static is None else int(static)
        snr = tf.cast(snr_db if snr_db is not None else ebno_db, tf.float32)
        no = self._no_at_0db * tf.pow(10.0, -snr / 10.0)
        seed = self._generator.uniform_full_int([2], tf.int32)
        chunk = self._chunk.assign_add(1) - 1
        taps = self._link(batch_size, no, snr, seed, self._point_values(snr), chunk=chunk)
        return self._metric.compared(taps)
