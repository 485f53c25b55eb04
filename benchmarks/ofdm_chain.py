"""OFDM + TDL + LS + LMMSE Monte Carlo throughput: the linksim ``ofdm`` stage against the same chain in pure Sionna.

Measured in one process, alternating, on the same machine, both XLA-compiled, one slot per row
(Sionna's tutorial grid: 768 data resource elements, 16-QAM):

- ``sionna``: ``BinarySource → [LDPC5GEncoder] → Mapper → ResourceGridMapper → OFDMChannel(TDL-C,
  3 km/h) → LSChannelEstimator(lin) → LMMSEEqualizer → Demapper(app) → [LDPC5GDecoder] →
  compute_ber``;
- ``linksim``: what ``linksim run`` executes for the scenario ``bits → [ldpc_encoder] → mapper → ofdm →
  demapper → [ldpc_decoder]`` with the BER metric, the transmit-power metric and the NaN/constant
  checks of every tap;
- ``unchecked``: the same without the tap checks, to show what they cost.

Throughput is information bits per second of wall time, the median of ``--repeats`` timed calls of
each, interleaved, after one warm-up call. Run: ``python benchmarks/ofdm_chain.py [--json] [--repeats N] [--batch B]``.
"""
import argparse
import json
import os
import statistics
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from linksim.phy.seeding import stateless_seed  # noqa: E402

EBNO_DB = 12.0
K, N = 1536, 3072


def sionna_chain(coded, batch):
    """A call running one batch of the pure-Sionna chain."""
    from sionna.phy.channel import OFDMChannel
    from sionna.phy.channel.tr38901 import TDL
    from sionna.phy.fec.ldpc import LDPC5GDecoder, LDPC5GEncoder
    from sionna.phy.mapping import BinarySource, Constellation, Demapper, Mapper
    from sionna.phy.mimo import StreamManagement
    from sionna.phy.ofdm import LMMSEEqualizer, LSChannelEstimator, ResourceGrid, ResourceGridMapper
    from sionna.phy.utils import compute_ber, ebnodb2no

    rg = ResourceGrid(num_ofdm_symbols=14, fft_size=76, subcarrier_spacing=30e3, num_tx=1, num_streams_per_tx=1, cyclic_prefix_length=6,
                      num_guard_carriers=(5, 6), dc_null=True, pilot_pattern="kronecker", pilot_ofdm_symbol_indices=[2, 11])
    channel = OFDMChannel(TDL("C", 100e-9, 3.5e9, min_speed=3 / 3.6, max_speed=3 / 3.6), rg)
    constellation = Constellation("qam", 4)
    source, mapper = BinarySource(), Mapper(constellation=constellation)
    demapper = Demapper("app", constellation=constellation, hard_out=not coded)
    encoder = LDPC5GEncoder(K, N) if coded else None
    decoder = LDPC5GDecoder(encoder, hard_out=True) if coded else None
    rg_mapper, estimator = ResourceGridMapper(rg), LSChannelEstimator(rg, interpolation_type="lin")
    equalizer = LMMSEEqualizer(rg, StreamManagement(np.ones([1, 1], int), 1))
    no = ebnodb2no(EBNO_DB, 4, K / N if coded else 1.0, rg)

    @tf.function(jit_compile=True)
    def step():
        bits = source([batch, 1, 1, K if coded else N])
        y = channel(rg_mapper(mapper(encoder(bits) if coded else bits)), no)
        h_hat, err_var = estimator(y, no)
        x_hat, no_eff = equalizer(y, h_hat, err_var, no)
        demapped = demapper(x_hat, no_eff)
        return compute_ber(bits, decoder(demapped) if coded else demapped)

    return lambda: step().numpy()


def linksim_chain(coded, batch, tap_checks=True):
    """A call running one chunk of the linksim scenario (``tap_checks=False``: without the engine's
    per-tap NaN/constant checks)."""
    import linksim.run.montecarlo as montecarlo
    from linksim.run.montecarlo import ChunkRunner
    from linksim.run.training import CurveWeights
    from linksim.scenario import parse_scenario

    stages = [{"type": "mapper", "modulation": "qam16"}, {"type": "ofdm", "profile": "C", "speed_kmh": 3.0, "estimation": "ls"},
              {"type": "demapper", "modulation": "qam16", "method": "app", "hard": not coded}]
    if coded:
        stages = [{"type": "ldpc_encoder", "k": K, "n": N}] + stages + [{"type": "ldpc_decoder", "k": K, "n": N}]
    scenario = parse_scenario({
        "name": "bench", "snr": {"convention": "ebno", "values": [EBNO_DB]},
        "montecarlo": {"batch_size": batch, "execution": "xla"},
        "curves": [{"name": "ofdm", "source": {"type": "bits", "num_bits": K if coded else N}, "stages": stages}],
    })
    checks = montecarlo._tap_checks
    if not tap_checks:
        montecarlo._tap_checks = _no_checks
    try:
        runtime = ChunkRunner(scenario, CurveWeights(scenario, "checkpoints")).curve(0)
    finally:
        montecarlo._tap_checks = checks
    link, step = runtime.link, runtime.step
    args = (tf.constant(link.noise_variance(EBNO_DB), tf.float32), tf.constant(EBNO_DB, tf.float32))
    values = tf.constant(link.point_values(EBNO_DB), tf.float32)
    seeds = iter(range(10**6))
    return lambda: step(*args, tf.constant(stateless_seed(0, next(seeds))), values, tf.constant(0))[0][("ber", "errors")].numpy()


def _no_checks(taps):
    return {}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="print only a JSON object")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--batch", type=int, default=500, help="slots per call")
    args = parser.parse_args()
    results = {}
    for coded in (False, True):
        bits = args.batch * (K if coded else N)
        calls = {"sionna": sionna_chain(coded, args.batch), "linksim": linksim_chain(coded, args.batch),
                 "unchecked": linksim_chain(coded, args.batch, tap_checks=False)}
        for call in calls.values():
            call()  # warm-up: tracing and XLA compilation
        times = {name: [] for name in calls}
        for _ in range(args.repeats):  # interleaved, so that a load change affects all three alike
            for name, call in calls.items():
                start = time.perf_counter()
                call()
                times[name].append(time.perf_counter() - start)
        seconds = {name: statistics.median(t) for name, t in times.items()}
        results["ldpc" if coded else "uncoded"] = {
            **{f"{name}_mbps": round(bits / s / 1e6, 3) for name, s in seconds.items()},
            "ratio": round(seconds["sionna"] / seconds["linksim"], 2), "unchecked_ratio": round(seconds["sionna"] / seconds["unchecked"], 2)}
    if args.json:
        print(json.dumps(results))
        return
    print(f"# 16-QAM over OFDM + TDL-C (3 km/h) + LS + LMMSE, Eb/N0 = {EBNO_DB} dB, {args.batch} slots per call, "
          f"{os.cpu_count()} CPU cores, median of {args.repeats}")
    print(f"# {'chain':>8} | {'linksim Mbit/s':>14} | {'Sionna Mbit/s':>13} | {'linksim / Sionna':>16} | {'unchecked Mbit/s':>16} | {'unchecked / Sionna':>18}")
    for name, r in results.items():
        print(f"  {name:>8} | {r['linksim_mbps']:14.3f} | {r['sionna_mbps']:13.3f} | {r['ratio']:16.2f} | {r['unchecked_mbps']:16.3f} | "
              f"{r['unchecked_ratio']:18.2f}")


if __name__ == "__main__":
    main()
