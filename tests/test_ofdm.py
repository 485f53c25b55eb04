"""The OFDM stage over 3GPP fading: against a chain built from Sionna alone, against the flat Rayleigh
closed form, the LS estimate's error against the SNR, Sionna's Eb/N0 accounting, validation and
training through the fading chain."""
import math
import re

import numpy as np
import pytest
import tensorflow as tf

from tests.test_training import assert_training_steps_lower_the_loss_and_move_the_encoder, tiny_learned
from linksim.cli import main
from linksim.output.results import Results
from linksim.phy.ber_theory import ber_rayleigh
from linksim.phy.ofdm import OFDMFadingChannel, energy_overhead, make_channel_model, make_resource_grid
from linksim.scenario import build_curve, parse_scenario

K, N = 1536, 3072  # one rate-1/2 LDPC codeword of 16-QAM fills the 768 data resource elements of the default grid


def ofdm_scenario(stage, snrs, blocks, convention="ebno", execution="graph"):
    return {"name": "ofdm", "seed": 5, "snr": {"convention": convention, "values": list(snrs)},
            "montecarlo": {"batch_size": 500, "max_samples": blocks, "target_errors": None, "execution": execution},
            "curves": [{"name": "ldpc-qam16", "source": {"type": "bits", "num_bits": K},
                        "stages": [{"type": "ldpc_encoder", "k": K, "n": N}, {"type": "mapper", "modulation": "qam16"},
                                   {"type": "ofdm", **stage}, {"type": "demapper", "modulation": "qam16", "method": "app"},
                                   {"type": "ldpc_decoder", "k": K, "n": N}],
                        "metrics": [{"type": "ber"}, {"type": "bler"}]}]}


def test_the_eb_n0_noise_counts_pilots_and_cyclic_prefix_as_sionnas_ebnodb2no():
    from sionna.phy.utils import ebnodb2no

    for grid in [{}, {"fft_size": 64, "guard_carriers": [0, 0], "dc_null": False, "pilot_symbols": [0, 4, 8], "cyclic_prefix_length": 16}]:
        scenario = parse_scenario(ofdm_scenario(grid, [6.0], 500))
        stage = scenario.curves[0].stages[2]
        rg = make_resource_grid(stage.num_ofdm_symbols, stage.fft_size, 30e3, stage.cyclic_prefix_length, stage.guard_carriers,
                                stage.dc_null, stage.pilot_symbols)
        assert stage.data_symbols() == rg.num_data_symbols
        assert stage.energy_overhead() == pytest.approx(energy_overhead(rg), rel=1e-12)
        link, _ = build_curve(scenario, scenario.curves[0])
        # Sionna rounds the energy of a grid down to whole resource elements (966 for 966.7): 0.003 dB
        assert link.noise_variance(6.0) == pytest.approx(float(ebnodb2no(6.0, 4, K / N, rg)), rel=1e-3)
        assert link.noise_variance(6.0) == pytest.approx(stage.energy_overhead() / (10 ** 0.6 * 4 * K / N), rel=1e-6)
    assert energy_overhead(make_resource_grid()) == pytest.approx(14 * (1 + 6 / 76) * 64 / 768)


def test_the_ofdm_link_bler_matches_a_pure_sionna_chain_run_by_sim_ber(write_scenario, tmp_path):
    """TDL-C at 30 km/h, LS with linear interpolation, LMMSE. One codeword per row and each row its
    own slot and channel, so block errors are independent and the two-proportion test holds."""
    from sionna.phy import config
    from sionna.phy.channel import OFDMChannel
    from sionna.phy.channel.tr38901 import TDL
    from sionna.phy.fec.ldpc import LDPC5GDecoder, LDPC5GEncoder
    from sionna.phy.mapping import BinarySource, Constellation, Demapper, Mapper
    from sionna.phy.mimo import StreamManagement
    from sionna.phy.ofdm import LMMSEEqualizer, LSChannelEstimator, ResourceGrid, ResourceGridMapper
    from sionna.phy.utils import ebnodb2no, sim_ber

    snrs, blocks = (9.0, 11.0), 1000
    stage = {"model": "tdl", "profile": "C", "speed_kmh": 30.0, "estimation": "ls", "interpolation": "lin"}
    out = tmp_path / "ofdm.h5"
    assert main(["run", write_scenario(ofdm_scenario(stage, snrs, blocks, execution="xla")), "--out", str(out), "--quiet"]) == 0
    points = Results.load(out).curves[0].points

    config.seed = 23
    rg = ResourceGrid(num_ofdm_symbols=14, fft_size=76, subcarrier_spacing=30e3, num_tx=1, num_streams_per_tx=1, cyclic_prefix_length=6,
                      num_guard_carriers=(5, 6), dc_null=True, pilot_pattern="kronecker", pilot_ofdm_symbol_indices=[2, 11])
    channel = OFDMChannel(TDL("C", 100e-9, 3.5e9, min_speed=30 / 3.6, max_speed=30 / 3.6), rg)
    constellation = Constellation("qam", 4)
    source, mapper, demapper = BinarySource(), Mapper(constellation=constellation), Demapper("app", constellation=constellation)
    encoder = LDPC5GEncoder(K, N)
    decoder = LDPC5GDecoder(encoder, hard_out=True)
    rg_mapper, estimator = ResourceGridMapper(rg), LSChannelEstimator(rg, interpolation_type="lin")
    equalizer = LMMSEEqualizer(rg, StreamManagement(np.ones([1, 1], int), 1))

    @tf.function
    def mc_fun(batch_size, ebno_db):
        no = ebnodb2no(ebno_db, 4, K / N, rg)
        bits = source([batch_size, 1, 1, K])
        y = channel(rg_mapper(mapper(encoder(bits))), no)
        h_hat, err_var = estimator(y, no)
        x_hat, no_eff = equalizer(y, h_hat, err_var, no)
        return bits, decoder(demapper(x_hat, no_eff))

    _, bler = sim_ber(mc_fun, np.array(snrs), batch_size=500, max_mc_iter=blocks // 500, early_stop=False, verbose=False)
    for point, reference in zip(points, bler.numpy()):
        errors, trials = point.stats["bler"]["errors"], point.stats["bler"]["trials"]
        assert trials == blocks
        ours = errors / trials
        assert 0.02 < ours < 0.7 and 0.02 < reference < 0.7  # every point is informative
        pooled = (errors + reference * blocks) / (2 * blocks)
        z = (ours - reference) / math.sqrt(pooled * (1 - pooled) * (2 / blocks))
        assert abs(z) < 3.29, f"{point.snr_db} dB: BLER {ours:.4f} against Sionna's {reference:.4f} (z = {z:.2f})"


@pytest.mark.parametrize("modulation, equalizer", [("qpsk", "lmmse"), ("qam16", "zf")])
def test_perfect_csi_flat_rayleigh_matches_the_closed_form(modulation, equalizer):
    """One Rayleigh tap per grid of 8 resource elements; QPSK: Pb = ½(1 − √(γb/(1+γb))), γb = Es/N0 / 2,
    and every modulation the exact Rayleigh BER of :func:`linksim.phy.ber_theory.ber_rayleigh`."""
    from linksim.phy.ber_theory import ber_rayleigh
    from linksim.run.montecarlo import run_scenario

    stage = {"type": "ofdm", "model": "rayleigh", "estimation": "perfect", "equalizer": equalizer, "num_ofdm_symbols": 1,
             "fft_size": 8, "cyclic_prefix_length": 0, "guard_carriers": [0, 0], "dc_null": False, "pilot_symbols": []}
    bits = 16 if modulation == "qpsk" else 32
    spec = {"name": "flat", "seed": 4, "snr": {"convention": "esno", "values": [4.0, 12.0]},
            "montecarlo": {"batch_size": 4000, "max_samples": 40000, "target_errors": None, "execution": "graph"},
            "curves": [{"name": modulation, "source": {"type": "bits", "num_bits": bits},
                        "stages": [{"type": "mapper", "modulation": modulation}, stage, {"type": "demapper", "modulation": modulation}],
                        "metrics": [{"type": "ber"}]}]}
    for point in run_scenario(parse_scenario(spec)):
        expected = float(ber_rayleigh(modulation, point.snr_db, "esno"))
        if modulation == "qpsk":
            gb = 10 ** (point.snr_db / 10) / 2
            assert expected == pytest.approx(0.5 * (1 - math.sqrt(gb / (1 + gb))), rel=1e-12)
        ber = point.stats["ber"]
        # the bits of a row share one channel: 40000 independent rows, relative standard error ≈ 1 %
        assert abs(ber["errors"] / ber["trials"] - expected) < 0.05 * expected, (point.snr_db, ber, expected)


def test_uncoded_tdl_with_perfect_csi_has_the_rayleigh_ber_at_eb_n0_with_the_overhead(write_scenario, tmp_path):
    """Each resource element of a TDL-C slot sees a Rayleigh gain, so uncoded 16-QAM with perfect CSI
    has the Rayleigh closed form at the Es/N0 per data symbol that Eb/N0 leaves after the pilots and
    cyclic prefix (the 'rayleigh_ber' reference of the results file). TDL-C's coherence bandwidth is
    about the slot's width, so 4000 slots give a few thousand independent fades: 10 %."""
    spec = {"name": "tdl", "seed": 6, "snr": {"convention": "ebno", "values": [5.0]},
            "montecarlo": {"batch_size": 1000, "max_samples": 4000, "target_errors": None, "execution": "xla"},
            "curves": [{"name": "qam16", "source": {"type": "bits", "num_bits": 3072},
                        "stages": [{"type": "mapper", "modulation": "qam16"}, {"type": "ofdm", "estimation": "perfect", "speed_kmh": 3.0},
                                   {"type": "slicer", "modulation": "qam16"}],
                        "metrics": [{"type": "ber"}], "theory": {"type": "rayleigh_ber", "modulation": "qam16"}}]}
    out = tmp_path / "tdl.h5"
    assert main(["run", write_scenario(spec), "--out", str(out), "--quiet"]) == 0
    from linksim.engine.statistics import closed_form_ber

    curve = Results.load(out).curves[0]
    assert curve.theory["energy_overhead"] == pytest.approx(14 * (1 + 6 / 76) * 64 / 768)
    expected = float(closed_form_ber(curve.theory, "ebno")(5.0))
    assert expected == pytest.approx(float(ber_rayleigh("qam16", 5.0 + 10 * math.log10(4 / curve.theory["energy_overhead"]))), rel=1e-12)
    ber = curve.points[0].stats["ber"]
    assert abs(ber["errors"] / ber["trials"] - expected) < 0.1 * expected, (ber, expected)


def test_the_ls_estimate_error_falls_as_one_over_the_snr():
    """Static TDL-C, Kronecker pilots on symbols 2 and 11, linear interpolation: the error of the
    estimate over the whole grid is noise only, a fixed fraction of N0 (≤ N0, the error at a pilot)."""
    from sionna.phy import config
    from sionna.phy.ofdm import RemoveNulledSubcarriers

    config.seed = 3
    rg = make_resource_grid()
    chain = OFDMFadingChannel(rg, make_channel_model("tdl", "C", 100e-9, 3.5e9, 0.0), estimation="ls", interpolation="lin")
    symbols = tf.complex(tf.ones([400, 768]), tf.zeros([400, 768]))
    ratios = []
    for no in (1e-1, 1e-2, 1e-3, 1e-4):
        y, h = chain.propagate(chain.transmit(symbols), tf.constant(no, tf.float32))
        h_hat, _ = chain.estimate(y, h, tf.constant(no, tf.float32))
        mse = float(tf.reduce_mean(tf.abs(h_hat - RemoveNulledSubcarriers(rg)(h)) ** 2))
        ratios.append(mse / no)
    assert max(ratios) / min(ratios) < 1.1, ratios
    assert 0.4 < min(ratios) and max(ratios) < 1.05, ratios


def test_rows_are_padded_to_whole_grids_and_the_padding_is_dropped():
    from sionna.phy import config

    config.seed = 1
    rg = make_resource_grid(num_ofdm_symbols=2, fft_size=12, cyclic_prefix_length=0, num_guard_carriers=(0, 0), dc_null=False,
                            pilot_ofdm_symbol_indices=[0])
    chain = OFDMFadingChannel(rg, make_channel_model("rayleigh"), estimation="perfect")
    x = tf.complex(tf.random.normal([5, 30]), tf.random.normal([5, 30]))  # 30 symbols → 3 grids of 12, 6 padded
    assert chain.grids_per_row(30) == 3
    grids = chain.transmit(x)
    assert grids.shape == (15, 1, 1, 2, 12)
    np.testing.assert_array_equal(grids.numpy()[2::3, 0, 0, 1, 6:], 0)  # the padding of each row's last grid
    x_hat, no_eff = chain(x, 1e-6)
    assert x_hat.shape == (5, 30) and no_eff.shape == (5, 30)
    np.testing.assert_allclose(x_hat.numpy(), x.numpy(), atol=0.05)


@pytest.mark.parametrize("overrides, message", [
    ({"pilot_symbols": [2, 14]}, r"'pilot_symbols' \[14\] outside the grid's OFDM symbols 0 … 13"),
    ({"pilot_symbols": [2, 2]}, "'pilot_symbols' repeats an OFDM symbol"),
    ({"num_ofdm_symbols": 2, "pilot_symbols": [0, 1]}, "no room for data"),
    ({"pilot_symbols": []}, "'estimation: ls' needs pilots"),
    ({"guard_carriers": [40, 40]}, r"'guard_carriers' \[40, 40\] and the DC null leave no subcarrier of the 76"),
    ({"cyclic_prefix_length": 100}, r"'cyclic_prefix_length' \(100\) must not exceed 'fft_size' \(76\)"),
    ({"model": "rayleigh", "speed_kmh": 30.0}, "block fading, constant over a grid: 'speed_kmh' does not apply"),
    ({"profile": "F"}, r"profile: input should be 'A', 'B', 'C', 'D' or 'E'"),
    ({"subcarrier_spacing_khz": 45}, r"subcarrier_spacing_khz: input should be 15, 30, 60, 120 or 240"),
    ({"speed_kmh": -3.0}, r"speed_kmh: input should be greater than or equal to 0"),
    ({"speed": 3.0}, r"did you mean 'speed_kmh'"),
])
def test_bad_grids_pilots_models_and_speeds_are_one_line_errors(overrides, message, write_scenario, capsys):
    assert main(["validate", write_scenario(ofdm_scenario(overrides, [6.0], 500))]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert re.search(message, err), err


def test_the_ofdm_stage_takes_complex_symbols_only(write_scenario, capsys):
    spec = ofdm_scenario({}, [6.0], 500, convention="esno")
    del spec["curves"][0]["stages"][1]  # bits straight into the OFDM stage
    assert main(["validate", write_scenario(spec)]) == 2
    assert "stage ofdm 'equalized' takes symbols, but receives bits" in capsys.readouterr().err


def test_a_codec_trains_through_the_fading_chain():
    """The phy bridge runs the OFDM + TDL + LS chain forward (a channel drawn per batch) and passes the
    gradient straight through: the loss falls and the encoder moves."""
    spec = tiny_learned("phy")
    spec["curves"][0]["stages"][4] = {"type": "ofdm", "num_ofdm_symbols": 4, "fft_size": 16, "cyclic_prefix_length": 2,
                                      "guard_carriers": [0, 0], "dc_null": False, "pilot_symbols": [0], "speed_kmh": 30.0}
    assert_training_steps_lower_the_loss_and_move_the_encoder(spec, snr_db=15.0, steps=8)


@pytest.mark.parametrize("model, profile", [("tdl", p) for p in "ABCDE"] + [("cdl", "A"), ("cdl", "D"), ("rayleigh", "C")])
def test_every_channel_model_has_unit_mean_gain_per_resource_element(model, profile):
    """The SNR means what it says only if E|h|² = 1: 1000 slots (a Rayleigh slot's mean |h|² has a
    standard deviation of at most 1, so the mean over 1000 is within ±10 % at 3 σ)."""
    from sionna.phy import config
    from sionna.phy.ofdm import RemoveNulledSubcarriers

    config.seed = 8
    rg = make_resource_grid()
    chain = OFDMFadingChannel(rg, make_channel_model(model, profile, 100e-9, 3.5e9, 0.0 if model == "rayleigh" else 10.0),
                              estimation="perfect")
    _, h = chain.propagate(chain.transmit(tf.ones([1000, 768], tf.complex64)), tf.constant(1e-9))
    assert float(tf.reduce_mean(tf.abs(RemoveNulledSubcarriers(rg)(h)) ** 2)) == pytest.approx(1.0, abs=0.1)
