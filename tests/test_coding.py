"""Channel coding stages: Sionna's 5G LDPC inside scenarios, against a chain built from Sionna alone."""
import math
import re
import subprocess
import sys

import numpy as np
import pytest
import tensorflow as tf

from linksim.cli import main
from linksim.results import Results
from linksim.scenario import build_curve, parse_scenario
from phy.coding import BlockDecoder, BlockEncoder

K, N = 120, 240  # r = 1/2; 240 coded bits = 40 64-QAM symbols


def coded_scenario(**curve_overrides):
    curve = {"name": "qam64-ldpc", "source": {"type": "bits", "num_bits": K},
             "stages": [{"type": "ldpc_encoder", "k": K, "n": N}, {"type": "interleaver", "seed": 3},
                        {"type": "mapper", "modulation": "qam64"}, {"type": "awgn"},
                        {"type": "demapper", "modulation": "qam64", "method": "app"},
                        {"type": "interleaver", "seed": 3, "inverse": True}, {"type": "ldpc_decoder", "k": K, "n": N}],
             "metrics": [{"type": "ber"}, {"type": "bler"}]}
    curve.update(curve_overrides)
    return {"name": "coded", "seed": 11, "snr": {"convention": "ebno", "values": [6.5, 7.5]},
            "montecarlo": {"batch_size": 1000, "max_samples": 3000, "target_errors": None, "execution": "graph"},
            "curves": [curve]}


def test_encoder_then_decoder_on_noiseless_llrs_returns_every_block():
    encoder = BlockEncoder("ldpc", K, N)
    bits = tf.cast(tf.random.stateless_uniform([4, 3 * K], (1, 2), 0, 2, tf.int32), tf.float32)  # 3 blocks per row
    coded = encoder(bits)
    assert coded.shape == (4, 3 * N)
    np.testing.assert_array_equal(coded.numpy()[:, N:2 * N], encoder(bits[:, K:2 * K]).numpy())  # block 2 on its own
    decoded = BlockDecoder(encoder)(20.0 * (2.0 * coded - 1.0))  # LLR log p(1)/p(0)
    np.testing.assert_array_equal(decoded.numpy(), bits.numpy())


def test_the_code_rate_enters_eb_n0():
    scenario = parse_scenario(coded_scenario())
    link, _ = build_curve(scenario, scenario.curves[0])
    # Es/N0 = Eb/N0 · 6 bits per symbol · 1/2
    assert link.noise_variance(7.5) == pytest.approx(10 ** (-7.5 / 10) / 3.0, rel=1e-6)


def test_ldpc_link_bler_matches_a_pure_sionna_chain_run_by_sim_ber(write_scenario, tmp_path):
    from sionna.phy.channel import AWGN
    from sionna.phy.fec.ldpc import LDPC5GDecoder, LDPC5GEncoder
    from sionna.phy.mapping import BinarySource, Constellation, Demapper, Mapper
    from sionna.phy.utils import ebnodb2no, sim_ber

    out = tmp_path / "coded.h5"
    assert main(["run", write_scenario(coded_scenario()), "--out", str(out), "--quiet"]) == 0
    points = Results.load(out).curves[0].points

    constellation = Constellation("qam", 6)
    source, mapper, channel = BinarySource(seed=5), Mapper(constellation=constellation), AWGN()
    demapper = Demapper("app", constellation=constellation)
    encoder = LDPC5GEncoder(K, N)
    decoder = LDPC5GDecoder(encoder, hard_out=True)

    @tf.function
    def mc_fun(batch_size, ebno_db):
        bits = source([batch_size, K])
        no = ebnodb2no(ebno_db, 6, K / N)
        return bits, decoder(demapper(channel(mapper(encoder(bits)), no), no))

    snrs = [p.snr_db for p in points]
    _, bler = sim_ber(mc_fun, np.array(snrs), batch_size=1000, max_mc_iter=3, early_stop=False, verbose=False)
    for point, reference in zip(points, bler.numpy()):
        errors, trials = point.stats["bler"]["errors"], point.stats["bler"]["trials"]
        assert trials == 3000
        ours = errors / trials
        assert 0.005 < ours < 0.5  # both points are informative
        pooled = (errors + reference * 3000) / 6000
        z = (ours - reference) / math.sqrt(pooled * (1 - pooled) * (2 / 3000))
        assert abs(z) < 3.29, f"{point.snr_db} dB: BLER {ours:.4f} against Sionna's {reference:.4f} (z = {z:.2f})"


@pytest.mark.parametrize("mutate, message", [
    (lambda c: c["stages"][0].update(k=300), r"ldpc_encoder 'codewords': k \(300\) must be smaller than n \(240\)"),
    (lambda c: c["stages"][6].update(k=8, n=16), r"Sionna's 5G ldpc encoder refuses k=8, n=16: Unsupported code length \(k too small\)"),
    (lambda c: c["stages"][0].update(n=1200), r"refuses k=120, n=1200: Unsupported coderate \(r<1/5\)"),
    (lambda c: c["source"].update(num_bits=100), "the source's 100 bits per row are not a multiple of k = 120"),
    (lambda c: c.update(coderate=0.5), "'coderate' is taken from the encoder stages of this curve; remove it"),
])
def test_bad_code_parameters_are_one_line_errors(mutate, message, write_scenario, capsys):
    spec = coded_scenario()
    mutate(spec["curves"][0])
    assert main(["validate", write_scenario(spec)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert re.search(message, err), err


def test_validating_a_coded_scenario_prints_only_its_verdict(write_scenario):
    """The code check constructs Sionna's encoder (TensorFlow imported): no native log line leaks."""
    proc = subprocess.run([sys.executable, "-m", "linksim.cli", "validate", write_scenario(coded_scenario())],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0 and proc.stderr == "" and "ok" in proc.stdout
    bad = coded_scenario()
    bad["curves"][0]["stages"][0]["n"] = 1200
    proc = subprocess.run([sys.executable, "-m", "linksim.cli", "validate", write_scenario(bad, "bad.yaml")],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1 and "Unsupported coderate (r<1/5)" in proc.stderr
