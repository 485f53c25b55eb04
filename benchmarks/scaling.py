"""Local backend versus local Ray with 1 and 2 one-thread workers on the same PHY sweep.

The sweep: Gray 16-QAM over AWGN through Sionna's maxlog hard demapper, 3 Eb/N0 points × 12
chunks of 8000 × 1024 bits (295 Mbit per backend), XLA. For each backend the start-up cost
(Ray start, workers importing TensorFlow, tracing and compiling) is measured apart from the
sweep: every worker first runs one warm-up chunk. Ray workers run one TensorFlow thread each,
so "1 worker" is one core and "2 workers" two: their ratio is the gain per added core. The
local backend is one process with TensorFlow's default threads (all cores). The counts of all
backends must be equal, which the script checks. Run: ``python benchmarks/scaling.py [--json]``.
"""
import argparse
import json
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

from linksim.run.montecarlo import LocalExecutor, run_scenario  # noqa: E402
from linksim.scenario import parse_scenario, resolved_yaml  # noqa: E402

SCENARIO = {
    "name": "scaling", "seed": 5, "snr": {"convention": "ebno", "values": [2.0, 4.0, 6.0]},
    "montecarlo": {"batch_size": 8000, "target_errors": None, "max_samples": 96000, "execution": "xla"},
    "curves": [{"name": "qam16", "source": {"type": "bits", "num_bits": 1024},
                "stages": [{"type": "mapper", "modulation": "qam16"}, {"type": "awgn"},
                           {"type": "demapper", "modulation": "qam16", "method": "maxlog", "hard": True}]}],
}


def _warm_up(executor, num_workers):
    """One chunk per worker (each traces and compiles its graph)."""
    chunks = executor.chunks(0, 0, 2.0, first_chunk=10**6)
    for _ in range(num_workers):
        next(chunks)
    chunks.close()


def measure(backend, workers=None):
    scenario = parse_scenario(SCENARIO)
    start = time.perf_counter()
    if backend == "local":
        executor, num_workers = LocalExecutor(scenario), 1
    else:
        from linksim.run.ray_executor import RayExecutor

        executor = RayExecutor(scenario, resolved_yaml(scenario), workers=workers, threads_per_worker=1)
        num_workers = executor.num_workers
    _warm_up(executor, num_workers)
    startup = time.perf_counter() - start
    start = time.perf_counter()
    points = run_scenario(scenario, executor)
    sweep = time.perf_counter() - start
    executor.close()
    bits = sum(p.stats["ber"]["trials"] for p in points)
    return {"startup_s": round(startup, 2), "sweep_s": round(sweep, 2), "mbps": round(bits / sweep / 1e6, 2),
            "counts": [p.stats["ber"]["errors"] for p in points]}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    results = {"local": measure("local"), "ray_1": measure("ray", 1), "ray_2": measure("ray", 2)}
    counts = {name: r.pop("counts") for name, r in results.items()}
    results["identical_counts"] = len({json.dumps(c) for c in counts.values()}) == 1
    results["speedup_ray2_over_ray1"] = round(results["ray_2"]["mbps"] / results["ray_1"]["mbps"], 2)
    results["speedup_ray2_over_local"] = round(results["ray_2"]["mbps"] / results["local"]["mbps"], 2)
    if args.json:
        print(json.dumps(results))
        return
    print(f"# 16-QAM maxlog sweep, 295 Mbit per backend, {os.cpu_count()} CPU cores")
    print(f"# {'backend':>8} | {'start-up s':>10} | {'sweep s':>8} | {'Mbit/s':>7}")
    for name in ("local", "ray_1", "ray_2"):
        r = results[name]
        print(f"  {name:>8} | {r['startup_s']:10.2f} | {r['sweep_s']:8.2f} | {r['mbps']:7.2f}")
    print(f"# Ray 2 workers / 1 worker: {results['speedup_ray2_over_ray1']:.2f}×; Ray 2 workers / local: "
          f"{results['speedup_ray2_over_local']:.2f}×; identical counts: {results['identical_counts']}")


if __name__ == "__main__":
    main()
