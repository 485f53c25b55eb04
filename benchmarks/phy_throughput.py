"""Uncoded hard-decision BER Monte Carlo throughput: linksim versus the stock Sionna pipeline.

Measured in one process, one after the other, on the same machine:

- ``sionna``: ``BinarySource → Mapper → AWGN → Demapper("maxlog", hard_out=True) →
  compute_ber``, XLA-compiled, batch of 6 048 000 bits per call (6000 × 1008);
- ``linksim``: :class:`linksim.phy.fast_ber.HardDecisionBERCounter` (packed bits → table mapping →
  AWGN → per-axis slicing → popcount of label XOR), XLA, 2**23 symbols per call;
- ``link``: what ``linksim run`` executes for a scenario ``bits → mapper → awgn → slicer``
  with the BER metric and the NaN/constant checks of every tap (the general stage chain, XLA,
  6000 × 1008 bits per call).

Throughput is simulated bits per second of wall time, the median of ``--repeats`` timed calls
after one warm-up call. Run: ``python benchmarks/phy_throughput.py [--json] [--repeats N]``.
"""
import argparse
import json
import os
import statistics
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
from sionna.phy.channel import AWGN as SionnaAWGN  # noqa: E402
from sionna.phy.mapping import BinarySource, Demapper, Mapper  # noqa: E402
from sionna.phy.utils import compute_ber, ebnodb2no  # noqa: E402

from linksim.phy.fast_ber import HardDecisionBERCounter  # noqa: E402
from linksim.phy.modulations import modulation_info  # noqa: E402
from linksim.phy.seeding import stateless_seed  # noqa: E402

EBNO_DB = 6.0
BATCH, BLOCK_BITS = 6000, 1008  # 6 048 000 bits per stock Sionna call


def _median_rate(call, bits_per_call, repeats):
    call()  # warm-up: tracing and XLA compilation
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        call()
        times.append(time.perf_counter() - start)
    return bits_per_call / statistics.median(times) / 1e6


def sionna_pipeline(modulation, repeats):
    info = modulation_info(modulation)
    source, mapper, channel = BinarySource(), Mapper(info.constellation_type, info.num_bits_per_symbol), SionnaAWGN()
    demapper = Demapper("maxlog", info.constellation_type, info.num_bits_per_symbol, hard_out=True)
    no = ebnodb2no(EBNO_DB, info.num_bits_per_symbol, 1.0)

    @tf.function(jit_compile=True)
    def step():
        bits = source([BATCH, BLOCK_BITS])
        return compute_ber(bits, demapper(channel(mapper(bits), no), no))

    return _median_rate(lambda: step().numpy(), BATCH * BLOCK_BITS, repeats)


def linksim_counter(modulation, repeats):
    info = modulation_info(modulation)
    counter = HardDecisionBERCounter(modulation, num_symbols=2**23)
    no = float(10 ** (-EBNO_DB / 10) / info.num_bits_per_symbol)
    seeds = iter(range(10**6))
    return _median_rate(lambda: int(counter(no, stateless_seed(0, next(seeds)))[0]), counter.num_bits, repeats)


def linksim_link(modulation, repeats):
    from linksim.run.montecarlo import ChunkRunner
    from linksim.run.training import CurveWeights
    from linksim.scenario import parse_scenario

    scenario = parse_scenario({
        "name": "bench", "snr": {"convention": "ebno", "values": [EBNO_DB]},
        "montecarlo": {"batch_size": BATCH, "execution": "xla"},
        "curves": [{"name": modulation, "source": {"type": "bits", "num_bits": BLOCK_BITS},
                    "stages": [{"type": "mapper", "modulation": modulation}, {"type": "awgn"}, {"type": "slicer", "modulation": modulation}]}],
    })
    runtime = ChunkRunner(scenario, CurveWeights(scenario, "checkpoints")).curve(0)
    link, step = runtime.link, runtime.step
    args = (tf.constant(link.noise_variance(EBNO_DB), tf.float32), tf.constant(EBNO_DB, tf.float32))
    values = tf.constant(link.point_values(EBNO_DB), tf.float32)
    seeds = iter(range(10**6))
    return _median_rate(lambda: step(*args, tf.constant(stateless_seed(0, next(seeds))), values, tf.constant(0))[0][("ber", "errors")].numpy(), BATCH * BLOCK_BITS, repeats)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="print only a JSON object")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--modulations", default="qpsk,qam16,qam64")
    args = parser.parse_args()
    results = {}
    for modulation in args.modulations.split(","):
        sionna = sionna_pipeline(modulation, args.repeats)
        fast = linksim_counter(modulation, args.repeats)
        link = linksim_link(modulation, args.repeats)
        results[modulation] = {"linksim_mbps": round(fast, 1), "sionna_mbps": round(sionna, 1), "ratio": round(fast / sionna, 2),
                               "link_mbps": round(link, 1), "link_ratio": round(link / sionna, 2)}
    if args.json:
        print(json.dumps(results))
        return
    print(f"# uncoded hard-decision BER Monte Carlo, Eb/N0 = {EBNO_DB} dB, {os.cpu_count()} CPU cores, median of {args.repeats}")
    print(f"# {'modulation':>10} | {'linksim Mbit/s':>14} | {'Sionna Mbit/s':>13} | {'ratio':>6} | {'link Mbit/s':>11} | {'link ratio':>10}")
    for modulation, r in results.items():
        print(f"  {modulation:>10} | {r['linksim_mbps']:14.1f} | {r['sionna_mbps']:13.1f} | {r['ratio']:6.2f} | {r['link_mbps']:11.1f} | {r['link_ratio']:10.2f}")


if __name__ == "__main__":
    np.seterr(all="ignore")
    main()
