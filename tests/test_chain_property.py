"""Property: a chain that `linksim validate` accepts never ends in an internal error when run.

Hypothesis builds random chains of the registry's PHY stages behind a bits source (mappers,
demappers, slicers, channels, codes, AD/DA, quantizers, interleavers) with random parameters; each
chain is validated, and a valid one is run (tiny batches, eager): the run may end in a clear input
error (exit 2, e.g. a declared power the measurement refutes) but never in exit 1."""
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from linksim.cli import main

MODULATIONS = ["bpsk", "qpsk", "qam16", "pam4"]
STAGES = st.one_of(
    st.builds(lambda m: {"type": "mapper", "modulation": m}, st.sampled_from(MODULATIONS)),
    st.builds(lambda m, hard: {"type": "demapper", "modulation": m, "hard": hard}, st.sampled_from(MODULATIONS), st.booleans()),
    st.builds(lambda m: {"type": "slicer", "modulation": m}, st.sampled_from(MODULATIONS)),
    st.builds(lambda m: {"type": "symbol_decision", "modulation": m}, st.sampled_from(MODULATIONS)),
    st.just({"type": "awgn"}),
    st.just({"type": "rayleigh"}),
    st.builds(lambda f: {"type": "scale", "factor": f}, st.sampled_from([0.5, 1.0, 2.0])),
    st.builds(lambda p: {"type": "bsc", "error_probability": p}, st.sampled_from([0.0, 0.1])),
    st.just({"type": "interleaver", "seed": 2}),
    st.builds(lambda nb: {"type": "ad", "num_bits": nb}, st.sampled_from([1, 2, 3])),
    st.builds(lambda nb: {"type": "da", "num_bits": nb}, st.sampled_from([1, 2, 3])),
    st.builds(lambda nb: {"type": "quantizer", "num_bits": nb}, st.sampled_from([2, 3])),
    st.builds(lambda nb: {"type": "dequantizer", "num_bits": nb}, st.sampled_from([2, 3])),
    st.just({"type": "ldpc_encoder", "k": 24, "n": 48}),
    st.just({"type": "ldpc_decoder", "k": 24, "n": 48}),
)
# Chains that often are valid: a mapper-channel-demapper core with random stages around it.
CORES = st.sampled_from([[], [{"type": "mapper", "modulation": "qpsk"}, {"type": "awgn"}, {"type": "demapper", "modulation": "qpsk"}],
                         [{"type": "mapper", "modulation": "qam16"}, {"type": "awgn"}, {"type": "slicer", "modulation": "qam16"}]])


@settings(max_examples=40, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
@given(before=st.lists(STAGES, max_size=2), core=CORES, after=st.lists(STAGES, max_size=2),
       num_bits=st.sampled_from([24, 48, 96, 100]), metric=st.sampled_from(["ber", "bler", "none"]))
def test_a_validated_chain_runs_without_an_internal_error(tmp_path_factory, before, core, after, num_bits, metric):
    stages = [dict(s, tap=f"s{i}") for i, s in enumerate(before + core + after)]
    if not stages:
        return
    curve = {"name": "c", "source": {"type": "bits", "num_bits": num_bits}, "stages": stages}
    if metric != "none":
        curve["metrics"] = [{"type": metric}]
    scenario = {"name": "chain", "seed": 1, "snr": {"convention": "esno", "values": [3.0]},
                "montecarlo": {"batch_size": 4, "max_samples": 4, "target_errors": None, "execution": "eager"}, "curves": [curve]}
    folder = tmp_path_factory.mktemp("chain")
    path = folder / "s.yaml"
    path.write_text(yaml.safe_dump(scenario))
    if main(["validate", str(path)]) != 0:
        return
    code = main(["run", str(path), "--out", str(folder / "r.h5"), "--quiet", "--checkpoints", str(folder / "ck")])
    assert code in (0, 2), f"internal error on a validated chain: {[s['type'] for s in stages]}"
