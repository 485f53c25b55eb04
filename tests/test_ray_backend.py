"""The Ray backend gives exactly the local numbers, early stopping included."""
import ray  # noqa: F401  (part of the [test] extra: a missing Ray fails here, never skips)

from linksim.cli import main
from linksim.output.results import Results
from tests.conftest import tiny_scenario


def test_local_and_ray_runs_are_identical(write_scenario, tmp_path):
    scenario = tiny_scenario(
        snr={"convention": "ebno", "values": [0.0, 3.0, 6.0, 30.0, 31.0]},
        montecarlo={"batch_size": 100, "target_errors": 3000, "max_samples": 3000, "execution": "graph"},
    )
    path = write_scenario(scenario)
    local, distributed = tmp_path / "local.h5", tmp_path / "ray.h5"
    assert main(["run", path, "--out", str(local), "--quiet"]) == 0
    assert main(["run", path, "--out", str(distributed), "--quiet", "--backend", "ray", "--workers", "2"]) == 0
    a, b = Results.load(local).curves[0].points, Results.load(distributed).curves[0].points
    key = [(p.snr_db, p.samples, p.chunks, p.stop_reason, p.stats) for p in a]
    assert key == [(p.snr_db, p.samples, p.chunks, p.stop_reason, p.stats) for p in b]
    assert [p.stop_reason for p in a] == ["target_errors"] * 3 + ["max_samples"]  # 30 dB error-free: curve ends
