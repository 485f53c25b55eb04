"""OFDM over 3GPP fading channels with pilots, channel estimation and equalization, from Sionna's blocks.

Single antenna, one stream (SISO): :class:`OFDMFadingChannel` puts rows of complex symbols on
Sionna resource grids (``ResourceGridMapper``), sends the grids through a frequency-domain
``OFDMChannel`` (3GPP TDL or CDL, or flat Rayleigh block fading) with AWGN, estimates the channel
(perfect knowledge, or Sionna's ``LSChannelEstimator`` with its interpolators) and equalizes
(``LMMSEEqualizer`` or ``ZFEqualizer``). It gives the equalized data symbols and their effective
noise variance (``no_eff``), which Sionna's demappers take as ``no``. No OFDM processing is
written here: this module only assembles Sionna's blocks and arranges shapes.

A row of ``n`` symbols fills ``ceil(n / D)`` resource grids of ``D`` data resource elements; the
last one is padded with zero symbols (no energy, dropped at the receiver). Each grid is one slot
with its own channel realization.

SNR accounting (Sionna's ``ebnodb2no`` with a resource grid): the pilots and the cyclic prefix
carry energy that no information bit uses, so at a given Eb/N0 the noise per resource element is
``N0 = overhead · Es / (Eb/N0 · bits per symbol · code rate)`` with ``overhead`` from
:func:`energy_overhead`.
"""
import math

import numpy as np
import tensorflow as tf
from sionna.phy import Block

__all__ = ["CHANNEL_MODELS", "TDL_PROFILES", "CDL_PROFILES", "ESTIMATORS", "INTERPOLATIONS", "EQUALIZERS",
           "make_resource_grid", "make_channel_model", "energy_overhead", "OFDMFadingChannel"]

CHANNEL_MODELS = ("tdl", "cdl", "rayleigh")
TDL_PROFILES = ("A", "B", "C", "D", "E")
CDL_PROFILES = ("A", "B", "C", "D", "E")
ESTIMATORS = ("perfect", "ls")
INTERPOLATIONS = ("nn", "lin", "lin_time_avg")
EQUALIZERS = ("lmmse", "zf")


def make_resource_grid(num_ofdm_symbols=14, fft_size=76, subcarrier_spacing=30e3, cyclic_prefix_length=6,
                       num_guard_carriers=(5, 6), dc_null=True, pilot_ofdm_symbol_indices=(2, 11)):
    """A single-stream Sionna ``ResourceGrid`` with Kronecker pilots (QPSK, unit energy) on the OFDM
    symbols ``pilot_ofdm_symbol_indices`` (every effective subcarrier), or none when that is empty.
    The defaults are Sionna's tutorial grid: 14 symbols × 76 subcarriers at 30 kHz, guard bands of
    5 and 6, DC null, pilots on symbols 2 and 11 (768 data resource elements)."""
    from sionna.phy.ofdm import ResourceGrid

    pilots = list(pilot_ofdm_symbol_indices)
    return ResourceGrid(num_ofdm_symbols=num_ofdm_symbols, fft_size=fft_size, subcarrier_spacing=subcarrier_spacing,
                        num_tx=1, num_streams_per_tx=1, cyclic_prefix_length=cyclic_prefix_length,
                        num_guard_carriers=tuple(num_guard_carriers), dc_null=dc_null,
                        pilot_pattern="kronecker" if pilots else "empty", pilot_ofdm_symbol_indices=pilots or None)


def make_channel_model(model="tdl", profile="C", delay_spread=100e-9, carrier_frequency=3.5e9, speed=0.0):
    """A Sionna channel model for one single-antenna transmitter and receiver.

    ``tdl``: 3GPP TR 38.901 TDL-``profile`` (A–C Rayleigh, D–E with a line-of-sight tap) scaled to
    ``delay_spread`` [s]; ``cdl``: CDL-``profile`` between two single omnidirectional antennas
    (uplink); ``rayleigh``: one Rayleigh tap, constant over a grid (flat block fading). ``speed``
    [m/s] sets the Doppler of TDL and CDL.
    """
    if model == "tdl":
        from sionna.phy.channel.tr38901 import TDL

        return TDL(profile, delay_spread, carrier_frequency, min_speed=speed, max_speed=speed)
    if model == "cdl":
        from sionna.phy.channel.tr38901 import CDL, Antenna

        def antenna():
            return Antenna(polarization="single", polarization_type="V", antenna_pattern="omni", carrier_frequency=carrier_frequency)

        return CDL(profile, delay_spread, carrier_frequency, antenna(), antenna(), "uplink", min_speed=speed, max_speed=speed)
    if model == "rayleigh":
        from sionna.phy.channel import RayleighBlockFading

        return RayleighBlockFading(num_rx=1, num_rx_ant=1, num_tx=1, num_tx_ant=1)
    raise ValueError(f"unknown channel model {model!r}; expected one of {CHANNEL_MODELS}")


def energy_overhead(resource_grid) -> float:
    """Energy sent per data resource element over the energy of one data symbol: the pilots and the
    cyclic prefix, as Sionna's ``ebnodb2no`` counts them (nulled guard and DC carriers carry none):
    ``num_ofdm_symbols · (1 + cp / fft_size) · num_effective_subcarriers / num_data_symbols``.
    Sionna 1.2.2's ``ebnodb2no`` rounds the numerator down to a whole number of resource elements
    (966 for 966.7 on the default grid: 0.003 dB); this is the exact value."""
    rg = resource_grid
    sent = rg.num_ofdm_symbols * (1 + rg.cyclic_prefix_length / rg.fft_size) * int(rg.num_effective_subcarriers)
    return float(sent / int(rg.num_data_symbols) / rg.num_streams_per_tx)


class OFDMFadingChannel(Block):
    """Rows of complex symbols over OFDM and a fading channel, equalized: Sionna's resource grid
    mapper, ``OFDMChannel``, channel estimator and equalizer in one block.

    Parameters
    ----------
    resource_grid : sionna.phy.ofdm.ResourceGrid
        One transmitter, one stream (:func:`make_resource_grid`).
    channel_model : sionna.phy.channel.ChannelModel
        :func:`make_channel_model`.
    estimation : "perfect" | "ls"
        Perfect channel knowledge (error variance 0), or least squares at the pilots interpolated
        with ``interpolation`` (Sionna's ``LSChannelEstimator``).
    interpolation : "nn" | "lin" | "lin_time_avg"
    equalizer : "lmmse" | "zf"
    normalize_channel : bool
        Scale each grid's channel to unit mean energy per resource element (Sionna's option);
        ``False`` keeps the fading's power variation from slot to slot.

    Input
    -----
    x : [batch, n] complex64
        Symbols, unit mean energy for the SNR to mean what it says.
    no : scalar or [batch] float32
        Noise variance per resource element.

    Output
    ------
    x_hat : [batch, n] complex64
        Equalized symbols.
    no_eff : [batch, n] float32
        Their effective noise variance (for the demapper).
    """

    def __init__(self, resource_grid, channel_model, estimation="ls", interpolation="lin", equalizer="lmmse",
                 normalize_channel=False, **kwargs):
        super().__init__(**kwargs)
        from sionna.phy.channel import OFDMChannel
        from sionna.phy.mimo import StreamManagement
        from sionna.phy.ofdm import LMMSEEqualizer, LSChannelEstimator, RemoveNulledSubcarriers, ResourceGridMapper, ZFEqualizer

        if estimation not in ESTIMATORS:
            raise ValueError(f"unknown channel estimation {estimation!r}; expected one of {ESTIMATORS}")
        if equalizer not in EQUALIZERS:
            raise ValueError(f"unknown equalizer {equalizer!r}; expected one of {EQUALIZERS}")
        if estimation == "ls" and resource_grid.pilot_pattern.num_pilot_symbols == 0:
            raise ValueError("LS channel estimation needs pilots: give the grid pilot OFDM symbols")
        self.resource_grid = resource_grid
        self.estimation = estimation
        self.num_data_symbols = int(resource_grid.num_data_symbols)
        self._mapper = ResourceGridMapper(resource_grid)
        self._channel = OFDMChannel(channel_model, resource_grid, normalize_channel=normalize_channel, return_channel=True)
        self._remove_nulled = RemoveNulledSubcarriers(resource_grid)
        self._estimator = LSChannelEstimator(resource_grid, interpolation_type=interpolation) if estimation == "ls" else None
        equalizer_class = LMMSEEqualizer if equalizer == "lmmse" else ZFEqualizer
        self._equalizer = equalizer_class(resource_grid, StreamManagement(np.ones([1, 1], int), 1))

    def grids_per_row(self, n: int) -> int:
        """Resource grids a row of ``n`` symbols fills."""
        return math.ceil(n / self.num_data_symbols)

    def transmit(self, x):
        """[batch, n] symbols → [batch · g, 1, 1, num_ofdm_symbols, fft_size] resource grids (zero-padded)."""
        n = x.shape[-1]
        padding = self.grids_per_row(n) * self.num_data_symbols - n
        padded = tf.pad(x, [[0, 0], [0, padding]]) if padding else x
        return self._mapper(tf.reshape(padded, [-1, 1, 1, self.num_data_symbols]))

    def propagate(self, grid, no):
        """Channel and noise: received grids [batch·g, 1, 1, S, F] and the channel's frequency
        response [batch·g, 1, 1, 1, 1, S, F]."""
        return self._channel(grid, no)

    def estimate(self, y, h_freq, no):
        """Channel estimate on the effective subcarriers and its error variance,
        [batch·g, 1, 1, 1, 1, S, num_effective_subcarriers] each."""
        if self._estimator is None:
            h_hat = self._remove_nulled(h_freq)
            return h_hat, tf.zeros(tf.shape(h_hat), h_hat.dtype.real_dtype)
        return self._estimator(y, no)

    def call(self, x, no):
        n = x.shape[-1]
        grids = self.grids_per_row(n)
        no = tf.cast(no, tf.float32)
        no_grid = tf.repeat(no, grids) if no.shape.rank == 1 else no  # one value per grid
        y, h_freq = self.propagate(self.transmit(x), no_grid)
        h_hat, err_var = self.estimate(y, h_freq, no_grid)
        x_hat, no_eff = self._equalizer(y, h_hat, err_var, no_grid)
        x_hat = tf.reshape(x_hat, [-1, grids * self.num_data_symbols])
        no_eff = tf.reshape(no_eff, [-1, grids * self.num_data_symbols])
        if grids * self.num_data_symbols == n:
            return x_hat, no_eff
        return x_hat[:, :n], no_eff[:, :n]
