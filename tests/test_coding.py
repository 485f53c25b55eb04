"""Channel coding stages: Sionna's 5G LDPC and Polar codes inside scenarios, against chains built from Sionna alone."""
import math
import re
import subprocess
import sys

import numpy as np
import pytest
import tensorflow as tf

from linksim.cli import main
from linksim.output.results import Results
from linksim.scenario import build_curve, parse_scenario
from linksim.phy.coding import BlockDecoder, BlockEncoder

K, N = 120, 240  # r = 1/2; 240 coded bits = 40 64-QAM symbols


def coded_scenario(code="ldpc", snrs=(6.5, 7.5), blocks=3000, execution="graph", **curve_overrides):
    curve = {"name": f"qam64-{code}", "source": {"type": "bits", "num_bits": K},
             "stages": [{"type": f"{code}_encoder", "k": K, "n": N}, {"type": "interleaver", "seed": 3},
                        {"type": "mapper", "modulation": "qam64"}, {"type": "awgn"},
                        {"type": "demapper", "modulation": "qam64", "method": "app"},
                        {"type": "interleaver", "seed": 3, "inverse": True}, {"type": f"{code}_decoder", "k": K, "n": N}],
             "metrics": [{"type": "ber"}, {"type": "bler"}]}
    curve.update(curve_overrides)
    return {"name": "coded", "seed": 11, "snr": {"convention": "ebno", "values": list(snrs)},
            "montecarlo": {"batch_size": 1000, "max_samples": blocks, "target_errors": None, "execution": execution},
            "curves": [curve]}


@pytest.mark.parametrize("code", ["ldpc", "polar"])
def test_encoder_then_decoder_on_noiseless_llrs_returns_every_block(code):
    encoder = BlockEncoder(code, K, N)
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


def _sionna_codec(code):
    if code == "ldpc":
        from sionna.phy.fec.ldpc import LDPC5GDecoder, LDPC5GEncoder

        encoder = LDPC5GEncoder(K, N)
        return encoder, LDPC5GDecoder(encoder, hard_out=True)
    from sionna.phy.fec.polar import Polar5GDecoder, Polar5GEncoder

    encoder = Polar5GEncoder(K, N)
    return encoder, Polar5GDecoder(encoder, dec_type="hybSCL", list_size=8)


@pytest.mark.parametrize("code, snrs, blocks, execution", [("ldpc", (6.5, 7.5), 3000, "graph"), ("ldpc", (7.5,), 3000, "xla"),
                                                           ("polar", (7.5,), 1000, "xla")])
def test_coded_link_bler_matches_a_pure_sionna_chain_run_by_sim_ber(code, snrs, blocks, execution, write_scenario, tmp_path):
    """The Polar scenario asks for XLA and falls back to a graph (NumPy list decoder). The LDPC one
    runs as a graph and under XLA: the interleaver's permutation is drawn once outside the compiled
    step, so both modes apply the same one (drawn inside, XLA's generator gave another permutation
    and a 64-QAM BLER outside this test's interval)."""
    from sionna.phy import config
    from sionna.phy.channel import AWGN
    from sionna.phy.mapping import BinarySource, Constellation, Demapper, Mapper
    from sionna.phy.utils import ebnodb2no, sim_ber

    config.seed = 17  # Sionna's AWGN draws from its global generator: a fixed seed keeps the reference fixed
    out = tmp_path / "coded.h5"
    assert main(["run", write_scenario(coded_scenario(code, snrs, blocks, execution)), "--out", str(out), "--quiet"]) == 0
    points = Results.load(out).curves[0].points

    constellation = Constellation("qam", 6)
    source, mapper, channel = BinarySource(seed=5), Mapper(constellation=constellation), AWGN()
    demapper = Demapper("app", constellation=constellation)
    encoder, decoder = _sionna_codec(code)

    @tf.function
    def mc_fun(batch_size, ebno_db):
        bits = source([batch_size, K])
        no = ebnodb2no(ebno_db, 6, K / N)
        return bits, decoder(demapper(channel(mapper(encoder(bits)), no), no))

    _, bler = sim_ber(mc_fun, np.array(snrs), batch_size=1000, max_mc_iter=blocks // 1000, early_stop=False, verbose=False)
    for point, reference in zip(points, bler.numpy()):
        errors, trials = point.stats["bler"]["errors"], point.stats["bler"]["trials"]
        assert trials == blocks
        ours = errors / trials
        assert 0.005 < ours < 0.5  # every point is informative
        pooled = (errors + reference * blocks) / (2 * blocks)
        z = (ours - reference) / math.sqrt(pooled * (1 - pooled) * (2 / blocks))
        assert abs(z) < 3.29, f"{point.snr_db} dB: BLER {ours:.4f} against Sionna's {reference:.4f} (z = {z:.2f})"


@pytest.mark.parametrize("mutate, message", [
    (lambda c: c["stages"][0].update(k=300), r"ldpc_encoder 'codewords': k \(300\) must be smaller than n \(240\)"),
    (lambda c: c["stages"][6].update(k=8, n=16), r"Sionna's 5G ldpc encoder refuses k=8, n=16: Unsupported code length \(k too small\)"),
    (lambda c: c["stages"][0].update(n=1200), r"refuses k=120, n=1200: Unsupported coderate \(r<1/5\)"),
    (lambda c: c["source"].update(num_bits=100), "stage ldpc_encoder 'codewords' receives 100 bits per row, not a multiple of k = 120"),
    (lambda c: c.update(coderate=0.5), "'coderate' is taken from the encoder stages of this curve; remove it"),
    (lambda c: c["stages"][0].update(type="polar_encoder", n=1100), r"curves\[0\]\.stages\[0\]\.n: input should be less than or equal to 1088 \(got 1100\)"),
    (lambda c: c["stages"][0].update(type="polar_encoder", n=128), "Sionna's 5G polar encoder refuses k=120, n=128"),
    (lambda c: c["stages"][0].update(type="polar_encoder", k=16, n=64), "polar k = 16: 38.212 adds 3 parity-check bits"),
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


@pytest.mark.parametrize("code", ["ldpc", "polar"])
def test_the_written_out_code_limits_are_exactly_sionnas(code):
    """code_error (no TensorFlow) refuses exactly what constructing Sionna's 5G encoder refuses."""
    from linksim.phy.coding import _sionna_encoder, code_error

    ks = [1, 11, 12, 19, 20, 21, 100, 500, 1013, 1014, 3840, 8448, 8449]
    ns = [16, 17, 18, 24, 31, 32, 40, 100, 128, 400, 1024, 1088, 1089, 2000, 10_000, 121_344, 121_345]
    refused_both = agreed = 0
    for k in ks:
        for n in ns:
            if not 0 < k < n or (code == "polar" and k < 20):
                continue  # linksim's own rules, stricter than Sionna's
            try:
                _sionna_encoder(code, k, n)
                sionna_refuses = False
            except (ValueError, AssertionError):
                sionna_refuses = True
            assert (code_error(code, k, n) is not None) == sionna_refuses, (k, n)
            agreed += 1
            refused_both += sionna_refuses
    assert agreed > 60 and 10 < refused_both < agreed - 10


@pytest.mark.parametrize("n", [7, 240, 3072])
def test_the_interleaver_applies_sionnas_permutation_in_every_execution_mode(n):
    from sionna.phy.fec.interleaving import RandomInterleaver

    from linksim.phy.interleaving import FixedInterleaver

    x = tf.reshape(tf.range(3 * n, dtype=tf.float32), [3, n])
    reference = RandomInterleaver(seed=5, keep_batch_constant=True, keep_state=True)(x).numpy()  # eager: TensorFlow's Philox
    forward, inverse = FixedInterleaver(seed=5), FixedInterleaver(seed=5, inverse=True)
    runs = {"eager": lambda f, v: f(v), "graph": lambda f, v: tf.function(f)(v), "xla": lambda f, v: tf.function(f, jit_compile=True)(v)}
    for mode, run in runs.items():
        out = run(forward, x).numpy()
        np.testing.assert_array_equal(out, reference, err_msg=mode)
        np.testing.assert_array_equal(run(inverse, tf.constant(out)).numpy(), x.numpy(), err_msg=mode)
    assert sorted(reference[0]) == list(range(n)) and not np.array_equal(reference[0], np.arange(n))


@pytest.mark.parametrize("mode", ["eager", "graph", "xla"])
def test_a_row_that_is_not_whole_blocks_is_a_clear_error_in_every_mode(mode):
    encoder = BlockEncoder("ldpc", K, N)  # a Sionna Block: precision, build and call as Sionna's
    run = {"eager": encoder, "graph": tf.function(encoder), "xla": tf.function(encoder, jit_compile=True)}[mode]
    with pytest.raises(ValueError, match=f"a row of {K + 1} bits is not a multiple of the block size {K}"):
        run(tf.zeros([2, K + 1]))
    assert BlockEncoder("ldpc", K, N, precision="double")(tf.zeros([2, K])).dtype == tf.float64


@pytest.mark.parametrize("block_bits, expected", [(None, (1, 6)), ("row", (1, 2)), (2 * K, None)])
def test_bler_counts_codewords_behind_a_decoder_and_rows_when_asked(block_bits, expected, tmp_path, capsys):
    """Three codewords per row: one wrong codeword in row 0 is 1 error in 6 trials (2 rows); 'block_bits: row' makes it
    1 in 2; a row of the next chunk past max_samples (invalid) is not counted. Blocks that do not divide a row are refused."""
    bler = {"type": "bler"} if block_bits is None else {"type": "bler", "block_bits": block_bits}
    spec = coded_scenario(source={"type": "bits", "num_bits": 3 * K}, metrics=[{"type": "ber"}, bler])
    if expected is None:
        from linksim.engine.errors import InputError

        with pytest.raises(InputError, match=f"counts blocks of {2 * K} bits, but rows hold {3 * K} bits"):
            parse_scenario(spec)
        return
    scenario = parse_scenario(spec)
    _, metrics = build_curve(scenario, scenario.curves[0])
    metric = next(m for m in metrics if m.name == "bler")
    sent = tf.zeros([3, 3 * K])
    received = tf.tensor_scatter_nd_update(sent, [[0, K + 5], [0, K + 9], [2, 0]], [1.0, 1.0, 1.0])  # row 0: codeword 1 wrong
    stats = metric.update({"bits": sent, "output": received, "valid": tf.constant([True, True, False])})
    assert (int(stats["errors"]), int(stats["trials"])) == expected
    assert scenario.curves[0].counted() == {"bler": "bler per codeword of 120 bits" if block_bits is None else "bler per row"}
    spec["snr"]["values"] = [6.5]
    spec["montecarlo"]["max_samples"] = 1000
    path = tmp_path / "c.yaml"
    path.write_text(__import__("yaml").safe_dump(spec))
    assert main(["run", str(path), "--out", str(tmp_path / "c.h5"), "--quiet"]) == 0
    assert main(["table", str(tmp_path / "c.h5")]) == 0
    header = next(line for line in capsys.readouterr().out.splitlines() if line.startswith("# curve"))
    assert header.endswith("; bler per codeword of 120 bits" if block_bits is None else "; bler per row")
    point = Results.load(tmp_path / "c.h5").curves[0].points[0]
    assert point.stats["bler"]["trials"] == (3000 if block_bits is None else 1000)


def _fast_scenario(decoder: dict, snr=(2.0,), blocks=2000):
    spec = coded_scenario("ldpc", snr, blocks, "xla")
    stages = spec["curves"][0]["stages"]
    stages[6].update(decoder)
    return spec


@pytest.mark.parametrize("decoder", [{"implementation": "fast"},
                                     {"implementation": "fast", "schedule": "layered", "rule": "normalized-minsum", "scale": 0.8}])
def test_the_fast_decoder_in_a_scenario_reports_its_mean_iterations(decoder, write_scenario, tmp_path, capsys):
    """At an Eb/N0 where every codeword decodes (64-QAM, 11 dB), early termination stops them all
    early: the ``iterations`` metric is a mean between 1 and 20, shown in the table, and BLER is 0."""
    out = tmp_path / "fast.h5"
    assert main(["run", write_scenario(_fast_scenario(decoder, (11.0,))), "--out", str(out), "--wide"]) == 0
    header = next(line for line in capsys.readouterr().out.splitlines() if "iterations" in line)
    assert "bler" in header
    point = Results.load(out).curves[0].points[0]
    stats = point.stats["iterations"]
    mean = stats["sum"] / stats["count"]
    assert stats["count"] == 2000 and 1 <= mean < 10, mean
    assert point.stats["bler"]["errors"] == 0


def test_the_fast_decoder_matches_sionnas_in_a_scenario(write_scenario, tmp_path):
    """The same scenario point (same data and noise) with Sionna's decoder and with the fast one at
    equal rule, schedule and iterations: equal BLER (two-proportion test)."""
    counts = {}
    for implementation in ("sionna", "fast"):
        out = tmp_path / f"{implementation}.h5"
        spec = _fast_scenario({"implementation": implementation}, (7.0,), 3000)
        assert main(["run", write_scenario(spec, f"{implementation}.yaml"), "--out", str(out), "--quiet"]) == 0
        stats = Results.load(out).curves[0].points[0].stats["bler"]
        counts[implementation] = (stats["errors"], stats["trials"])
    (a, n), (b, _) = counts["sionna"], counts["fast"]
    assert a > 10  # informative
    pooled = (a + b) / (2 * n)
    assert abs((a - b) / n / math.sqrt(pooled * (1 - pooled) * 2 / n)) < 3.29, counts


@pytest.mark.parametrize("options, message", [
    ({"rule": "normalized-minsum"}, "rule 'normalized-minsum' needs 'implementation: fast'"),
    ({"early_stop": True}, "'early_stop' needs 'implementation: fast'"),
    ({"rule": "offset-minsum", "offset": 0.3}, "Sionna's offset min-sum has offset 0.5 only"),
    ({"implementation": "fast", "scale": 0.8}, "'scale' is the factor of rule 'normalized-minsum'"),
    ({"implementation": "fast", "rule": "fastest"}, r"rule: input should be 'boxplus-phi'"),
])
def test_bad_decoder_options_are_one_line_errors(options, message, write_scenario, capsys):
    assert main(["validate", write_scenario(_fast_scenario(options))]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and re.search(message, err), err


def test_sionnas_layered_decoder_runs_its_curve_as_a_graph():
    scenario = parse_scenario(_fast_scenario({"schedule": "layered"}))
    decoder = scenario.curves[0].stages[6]
    assert decoder.xla_compatible is False
    assert parse_scenario(_fast_scenario({"implementation": "fast", "schedule": "layered"})).curves[0].stages[6].xla_compatible
