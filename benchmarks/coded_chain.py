"""A coded chain, linksim's against the same chain in pure Sionna, measured side by side in one run.

Chain: 5G LDPC (k, n) = (1024, 2048) → 16-QAM (Gray) → AWGN → APP demapper → LDPC decoder, at two
Eb/N0 points (default 3.95 and 4.25 dB: BLER ≈ 1e-2 and ≈ 1e-3 for 20 flooding boxplus-phi
iterations). Chains, all XLA-compiled, 1000 codewords per batch:

- ``sionna``: ``BinarySource``, ``LDPC5GEncoder``, ``Mapper``, ``AWGN``, ``Demapper("app")``,
  ``LDPC5GDecoder`` (boxplus-phi, flooding, 20 iterations) — the reference;
- ``linksim``: the scenario curve of the same chain with ``implementation: fast`` on the encoder
  (the same codewords bit for bit) and on the decoder (the same rule, schedule and iterations, early
  termination), run as a Sionna block (``Scenario.link``);
- ``linksim-layered``: the same with ``schedule: layered, rule: normalized-minsum`` (scale 0.75),
  20 iterations: a lower BLER than Sionna's at 1e-3;
- ``linksim-layered-16``: the same with 16 iterations (``--layered-iterations``), which gives
  Sionna's BLER: the comparison at equal BLER.

For each chain and point: batches until ``--errors`` block errors (default 100), one batch of each
chain in turn (so that a change of load or clock during the run hits every chain alike): the wall time
of its batches (compilation excluded), information Mbit/s, BLER, the mean decoder iterations, and the
two-proportion z of the BLER against Sionna's (|z| < 3.29: equal at 99.9 %). Then the decoders
alone at 20 fixed iterations (no early stop), and the encoders alone, information Mbit/s, beside Sionna's.

    python benchmarks/coded_chain.py            # about 6 minutes on 2 cores
"""
import argparse
import os
import platform
import tempfile
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # noqa: E402

K, N, BITS_PER_SYMBOL, BATCH = 1024, 2048, 4, 1000


def scenario_dict(decoder: dict) -> dict:
    """The chain as a linksim scenario with the fast encoder and the given ``ldpc_decoder`` options."""
    return {"name": "coded_chain", "seed": 1, "snr": {"convention": "ebno", "values": [3.0]},
            "montecarlo": {"batch_size": BATCH},
            "curves": [{"name": "chain", "source": {"type": "bits", "num_bits": K},
                        "stages": [{"type": "ldpc_encoder", "k": K, "n": N, "implementation": "fast"},
                                   {"type": "mapper", "modulation": "qam16"},
                                   {"type": "awgn"},
                                   {"type": "demapper", "modulation": "qam16", "method": "app"},
                                   {"type": "ldpc_decoder", "k": K, "n": N, **decoder}],
                        "metrics": [{"type": "bler"}]}]}


def sionna_chain():
    """``ebno_db → (bits, decided)`` in pure Sionna."""
    import tensorflow as tf
    from sionna.phy.channel import AWGN
    from sionna.phy.fec.ldpc import LDPC5GDecoder, LDPC5GEncoder
    from sionna.phy.mapping import BinarySource, Demapper, Mapper
    from sionna.phy.utils import ebnodb2no

    source, encoder = BinarySource(), LDPC5GEncoder(K, N)
    mapper, channel, demapper = Mapper("qam", BITS_PER_SYMBOL), AWGN(), Demapper("app", "qam", BITS_PER_SYMBOL)
    decoder = LDPC5GDecoder(encoder, num_iter=20)

    @tf.function(jit_compile=True)
    def run(ebno_db):
        no = ebnodb2no(ebno_db, BITS_PER_SYMBOL, K / N)
        bits = source([BATCH, K])
        return bits, decoder(demapper(channel(mapper(encoder(bits)), no), no))

    return run


def linksim_chain(decoder: dict):
    """``ebno_db → (bits, decided)``: the scenario's curve as a Sionna block (linksim's own chain)."""
    import tensorflow as tf

    from linksim import load_scenario

    block = load_scenario(scenario_dict(decoder)).link("chain", metric="bler")
    return tf.function(lambda ebno_db: block(BATCH, ebno_db), jit_compile=True)


def until_errors(runs: dict, ebno_db: float, target: int, max_codewords: int) -> dict:
    """Batches of every chain in ``runs`` ({name: run}) until each has ``target`` block errors (or
    ``max_codewords``), one batch of each in turn, so that the chains share the machine's state
    (load, clock) alike: {name: (block errors, codewords, seconds of its own batches)}."""
    import tensorflow as tf

    snr = tf.constant(ebno_db, tf.float32)
    for run in runs.values():
        run(snr)  # compile
    tally = {name: [0, 0, 0.0] for name in runs}
    while open_ := [name for name, (errors, codewords, _) in tally.items() if errors < target and codewords < max_codewords]:
        for name in open_:
            start = time.perf_counter()
            bits, decided = runs[name](snr)
            errors = int(np.sum(np.any(bits.numpy() != decided.numpy(), axis=1)))
            tally[name][2] += time.perf_counter() - start
            tally[name][0] += errors
            tally[name][1] += BATCH
    return {name: tuple(values) for name, values in tally.items()}


def mean_iterations(decoder: dict, ebno_db: float, batches: int = 5) -> float:
    """Mean decoder iterations of the scenario run at ``ebno_db`` (the engine's ``iterations`` metric)."""
    from linksim import load_scenario

    spec = scenario_dict(decoder)
    spec["snr"] = {"convention": "ebno", "values": [ebno_db]}
    spec["montecarlo"].update(max_samples=batches * BATCH, target_errors=10**9, max_seconds=600)
    with tempfile.TemporaryDirectory() as folder:
        results = load_scenario(spec).run(out=os.path.join(folder, "r.h5"), quiet=True)
    stats = results.curves[0].points[0].stats["iterations"]
    return stats["sum"] / stats["count"]


def two_proportion_z(errors_a, trials_a, errors_b, trials_b) -> float:
    pooled = (errors_a + errors_b) / (trials_a + trials_b)
    if pooled in (0, 1):
        return 0.0
    return (errors_a / trials_a - errors_b / trials_b) / np.sqrt(pooled * (1 - pooled) * (1 / trials_a + 1 / trials_b))


def info_rate(block, inputs, repeats: int) -> float:
    """Information Mbit/s of ``block`` (XLA-compiled, compilation excluded) on a batch of ``BATCH`` codewords."""
    import tensorflow as tf

    run = tf.function(block, jit_compile=True)
    run(inputs)
    start = time.perf_counter()
    for _ in range(repeats):
        run(inputs).numpy()
    return BATCH * K * repeats / (time.perf_counter() - start) / 1e6


def print_rates(title: str, rates: list[tuple[str, float]]):
    """``rates`` [(name, Mbit/s)], each with its ratio to the first."""
    print(title)
    for name, rate in rates:
        print(f"  {name:36s} {rate:6.2f}  ({rate / rates[0][1]:.2f}x)", flush=True)


def decoder_throughput(repeats: int = 5) -> list[tuple[str, float]]:
    """Information Mbit/s of each decoder alone, 20 fixed iterations, on the same LLRs (Eb/N0 4.25 dB)."""
    import tensorflow as tf
    from sionna.phy.fec.ldpc import LDPC5GDecoder, LDPC5GEncoder
    from sionna.phy.mapping import Demapper, Mapper
    from sionna.phy.utils import ebnodb2no

    from linksim.phy.ldpc_decoding import QCLDPC5GDecoder

    encoder = LDPC5GEncoder(K, N)
    no = ebnodb2no(4.25, BITS_PER_SYMBOL, K / N)
    symbols = Mapper("qam", BITS_PER_SYMBOL)(encoder(tf.cast(tf.random.uniform([BATCH, K], 0, 2, tf.int32), tf.float32)))
    noise = tf.complex(tf.random.normal(symbols.shape), tf.random.normal(symbols.shape)) * tf.cast(tf.sqrt(no / 2), tf.complex64)
    llr = Demapper("app", "qam", BITS_PER_SYMBOL)(symbols + noise, no)
    decoders = [("sionna boxplus-phi flooding", LDPC5GDecoder(encoder, num_iter=20)),
                ("sionna minsum flooding", LDPC5GDecoder(encoder, cn_update="minsum", num_iter=20)),
                ("linksim boxplus-phi flooding", QCLDPC5GDecoder(encoder, 20)),
                ("linksim minsum flooding", QCLDPC5GDecoder(encoder, 20, "minsum")),
                ("linksim normalized-minsum layered", QCLDPC5GDecoder(encoder, 20, "normalized-minsum", schedule="layered"))]
    return [(name, info_rate(decoder, llr, repeats)) for name, decoder in decoders]


def encoder_throughput(repeats: int = 20) -> list[tuple[str, float]]:
    """Information Mbit/s of Sionna's encoder and linksim's quasi-cyclic one (the same codewords)."""
    import tensorflow as tf
    from sionna.phy.fec.ldpc import LDPC5GEncoder

    from linksim.phy.ldpc_encoding import QCLDPC5GEncoder

    encoder = LDPC5GEncoder(K, N, num_bits_per_symbol=BITS_PER_SYMBOL)
    bits = tf.cast(tf.random.uniform([BATCH, K], 0, 2, tf.int32), tf.float32)
    return [(name, info_rate(block, bits, repeats)) for name, block in
            (("sionna LDPC5GEncoder", encoder), ("linksim QCLDPC5GEncoder", QCLDPC5GEncoder(encoder)))]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--ebno", default="3.95,4.25", help="Eb/N0 points in dB, comma-separated")
    parser.add_argument("--errors", type=int, default=100, help="block errors per chain and point")
    parser.add_argument("--max-codewords", type=int, default=400_000)
    parser.add_argument("--layered-iterations", type=int, default=16,
                        help="iterations of the second layered chain, chosen for Sionna's BLER at 20 flooding iterations")
    args = parser.parse_args()

    import tensorflow as tf

    from linksim.workflow import quiet_native_stderr

    quiet_native_stderr()
    load = os.getloadavg()
    print(f"# machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, TensorFlow {tf.__version__}; "
          f"load average before {load[0]:.2f}")
    layered = {"implementation": "fast", "schedule": "layered", "rule": "normalized-minsum"}
    decoders = {"sionna": None, "linksim": {"implementation": "fast"}, "linksim-layered": layered,
                f"linksim-layered-{args.layered_iterations}": {**layered, "iterations": args.layered_iterations}}
    runs = {name: sionna_chain() if decoder is None else linksim_chain(decoder) for name, decoder in decoders.items()}
    print("# chain               Eb/N0 | block errors | codewords |     BLER | z vs sionna | mean it. | seconds | info Mbit/s | speed-up")
    for ebno in [float(v) for v in args.ebno.split(",")]:
        tally = until_errors(runs, ebno, args.errors, args.max_codewords)
        reference = tally["sionna"]
        for name, (errors, codewords, seconds) in tally.items():
            rate, reference_rate = codewords * K / seconds / 1e6, reference[1] * K / reference[2] / 1e6
            z = two_proportion_z(errors, codewords, reference[0], reference[1])
            iterations = mean_iterations(decoders[name], ebno) if decoders[name] else 20.0
            print(f"  {name:19s} {ebno:5.2f} | {errors:12d} | {codewords:9d} | {errors / codewords:.2e} | {z:+11.2f} | "
                  f"{iterations:8.2f} | {seconds:7.1f} | {rate:11.2f} | {rate / reference_rate:7.2f}x", flush=True)
    print_rates("# decoders alone, 20 fixed iterations (no early stop), info Mbit/s", decoder_throughput())
    print_rates("# encoders alone, info Mbit/s", encoder_throughput())
    print(f"# load average after {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
