"""Catalogue of the OFDM stage: complex symbols over OFDM resource grids, a 3GPP fading channel,
channel estimation and equalization (:class:`linksim.phy.ofdm.OFDMFadingChannel`, Sionna's blocks).

The stage sits where ``awgn`` or ``rayleigh`` sit: after whatever gives complex symbols (a mapper,
a learned encoder's symbols) and before whatever reads them (a demapper or slicer, a learned
decoder). It gives the equalized symbols and sets their effective noise variance for the demappers.
"""
from typing import ClassVar, Literal

from pydantic import Field, model_validator

from linksim.engine.registry import register
from linksim.engine.stage import StageParams, make_stage

__all__ = ["OFDMParams"]


@register("stage", "ofdm")
class OFDMParams(StageParams):
    """OFDM over a 3GPP TDL/CDL or flat Rayleigh channel, pilots, LS or perfect CSI, LMMSE/ZF equalization (Sionna's blocks).

    [batch, n] complex symbols → [batch, n] equalized symbols; their effective noise variance goes
    to the demappers. ``interpolation`` (of the LS estimate) is ignored with ``estimation: perfect``.

    The resource grid (defaults: Sionna's tutorial grid, 14 OFDM symbols × 76 subcarriers at 30 kHz,
    cyclic prefix 6, guard bands 5 + 6, DC null, Kronecker QPSK pilots on symbols 2 and 11: 768
    data resource elements) carries each row's symbols; a row that does not fill whole grids is
    padded with zero symbols, which carry no energy and are dropped at the receiver. Every grid is
    one slot with its own channel realization. With the ``ebno`` convention the noise counts the
    pilots' and the cyclic prefix's energy as Sionna's ``ebnodb2no`` does; ``esno`` is per data
    resource element.
    """

    type: Literal["ofdm"]
    num_ofdm_symbols: int = Field(default=14, ge=1, le=140)
    fft_size: int = Field(default=76, ge=4, le=4096)
    subcarrier_spacing_khz: Literal[15, 30, 60, 120, 240] = 30
    cyclic_prefix_length: int = Field(default=6, ge=0, le=4096)
    guard_carriers: list[int] = Field(default=[5, 6], min_length=2, max_length=2)
    dc_null: bool = True
    pilot_symbols: list[int] = Field(default=[2, 11], max_length=140)
    model: Literal["tdl", "cdl", "rayleigh"] = "tdl"
    profile: Literal["A", "B", "C", "D", "E"] = "C"
    delay_spread_ns: float = Field(default=100.0, gt=0, le=10000)
    carrier_frequency_ghz: float = Field(default=3.5, gt=0, le=100)
    speed_kmh: float = Field(default=0.0, ge=0, le=1000)
    normalize_channel: bool = False
    estimation: Literal["perfect", "ls"] = "ls"
    interpolation: Literal["nn", "lin", "lin_time_avg"] = "lin"
    equalizer: Literal["lmmse", "zf"] = "lmmse"

    tap_default: ClassVar[str] = "equalized"
    figures: ClassVar[tuple[str, ...]] = ("constellation",)
    noise_channel: ClassVar[bool] = True

    @model_validator(mode="after")
    def _grid(self):
        if self.cyclic_prefix_length > self.fft_size:
            raise ValueError(f"'cyclic_prefix_length' ({self.cyclic_prefix_length}) must not exceed 'fft_size' ({self.fft_size})")
        if min(self.guard_carriers) < 0:
            raise ValueError(f"'guard_carriers' must be two counts ≥ 0, got {list(self.guard_carriers)}")
        if self.effective_subcarriers() < 1:
            raise ValueError(f"'guard_carriers' {list(self.guard_carriers)}{' and the DC null' if self.dc_null else ''} "
                             f"leave no subcarrier of the {self.fft_size}")
        bad = [i for i in self.pilot_symbols if not 0 <= i < self.num_ofdm_symbols]
        if bad:
            raise ValueError(f"'pilot_symbols' {bad} outside the grid's OFDM symbols 0 … {self.num_ofdm_symbols - 1}")
        if len(set(self.pilot_symbols)) != len(self.pilot_symbols):
            raise ValueError(f"'pilot_symbols' repeats an OFDM symbol: {list(self.pilot_symbols)}")
        if len(self.pilot_symbols) == self.num_ofdm_symbols:
            raise ValueError("'pilot_symbols' take every OFDM symbol of the grid: no room for data")
        if self.estimation == "ls" and not self.pilot_symbols:
            raise ValueError("'estimation: ls' needs pilots: give 'pilot_symbols' (or 'estimation: perfect')")
        if self.model == "rayleigh" and self.speed_kmh:
            raise ValueError("'model: rayleigh' is block fading, constant over a grid: 'speed_kmh' does not apply (use tdl or cdl)")
        return self

    def effective_subcarriers(self) -> int:
        """Subcarriers left after the guard bands and the DC null."""
        return self.fft_size - sum(self.guard_carriers) - int(self.dc_null)

    def data_symbols(self) -> int:
        """Data resource elements of one grid."""
        return (self.num_ofdm_symbols - len(self.pilot_symbols)) * self.effective_subcarriers()

    def energy_overhead(self) -> float:
        """Energy per data resource element over one data symbol's: pilots and cyclic prefix, as
        :func:`linksim.phy.ofdm.energy_overhead` (computed here without Sionna)."""
        sent = self.num_ofdm_symbols * (1 + self.cyclic_prefix_length / self.fft_size) * self.effective_subcarriers()
        return sent / self.data_symbols()

    def signal(self, received):
        received.expect("symbols")
        return received

    def build(self, context):
        from linksim.phy.ofdm import OFDMFadingChannel, make_channel_model, make_resource_grid

        grid = make_resource_grid(self.num_ofdm_symbols, self.fft_size, self.subcarrier_spacing_khz * 1e3, self.cyclic_prefix_length,
                                  self.guard_carriers, self.dc_null, self.pilot_symbols)
        model = make_channel_model(self.model, self.profile, self.delay_spread_ns * 1e-9, self.carrier_frequency_ghz * 1e9,
                                   self.speed_kmh / 3.6)
        channel = OFDMFadingChannel(grid, model, self.estimation, self.interpolation, self.equalizer, self.normalize_channel)

        def apply(x, ctx):
            y, ctx.no_eff = channel(x, ctx.no)
            return y

        return make_stage(self, channel, apply, uses_global_rng=True)
