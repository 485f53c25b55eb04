"""NaN/Inf in a tap stops the run naming stage and SNR; constant taps are flagged."""
import numpy as np
import pytest

from linksim.cli import main
from linksim.run.montecarlo import NumericalError, run_scenario
from linksim.output.results import Results
from linksim.scenario import parse_scenario
from linksim.catalogue.phy_stages import AWGNParams
from tests.conftest import tiny_scenario


@pytest.fixture
def awgn_turns_nan_above_3_db(monkeypatch):
    """A broken channel: returns NaN symbols from 3 dB on (as a diverged learned layer would)."""
    original = AWGNParams.build

    def build(self, context):
        import tensorflow as tf

        stage = original(self, context)
        apply = stage.apply

        def broken(x, ctx):
            y = apply(x, ctx)
            return tf.where(ctx.snr_db > 3.0, y * tf.cast(np.nan, y.dtype), y)

        stage.apply = broken
        return stage

    monkeypatch.setattr(AWGNParams, "build", build)


def test_nan_stops_the_run_with_stage_and_snr(awgn_turns_nan_above_3_db):
    with pytest.raises(NumericalError, match=r"curve qam16, Eb/N0 4 dB: stage 'awgn' \(tap 'received'\) produced NaN or Inf"):
        run_scenario(parse_scenario(tiny_scenario()))


def test_nan_through_the_cli_is_one_line_exit_1_and_a_failed_file(awgn_turns_nan_above_3_db, write_scenario, tmp_path, capsys):
    out = tmp_path / "r.h5"
    assert main(["run", write_scenario(tiny_scenario()), "--out", str(out), "--quiet"]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "stage 'awgn'" in err and "Eb/N0 4 dB" in err
    results = Results.load(out)
    assert results.attrs["status"] == "failed" and "NaN" in results.attrs["error"]
    assert [p.snr_db for p in results.curves[0].points] == [0.0, 2.0]  # the points before are kept


def test_constant_tap_is_flagged_and_stored(write_scenario, tmp_path, capsys):
    scenario = {
        "name": "clipped", "snr": {"convention": "snr", "values": [0.0, 10.0]},
        "montecarlo": {"batch_size": 50, "target_errors": None, "max_samples": 100, "execution": "graph"},
        "curves": [{
            "name": "clip", "source": {"type": "gaussian", "size": 64},
            "stages": [{"type": "real_awgn"}, {"type": "quantizer", "num_bits": 4, "minval": 50.0, "maxval": 60.0}],
            "metrics": [{"type": "mse", "sent": "latent", "received": "received"}],
        }],
    }
    out = tmp_path / "r.h5"
    assert main(["run", write_scenario(scenario), "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "warning: tap(s) quantized constant over the whole point at 0 dB" in printed
    points = Results.load(out).curves[0].points
    assert all(p.constant_taps == ["quantized"] for p in points)
    mse = points[1].stats["mse"]
    assert mse["sum"] / mse["count"] == pytest.approx(0.1, rel=0.05)  # real AWGN at 10 dB SNR, unit power


@pytest.mark.parametrize("jit_compile", [False, True])
def test_tap_checks_find_every_nonfinite_value_and_constant_tap(jit_compile):
    """NaN, +Inf and −Inf anywhere, in real and in complex taps (in either part), under graph
    execution and under XLA (whose reduce_max drops NaN); a complex tap is constant only when its
    real and imaginary parts both are; integer taps are finite."""
    import tensorflow as tf

    from linksim.run.montecarlo import _tap_checks

    checks = tf.function(lambda taps: _tap_checks(taps), jit_compile=jit_compile)
    ones = np.ones([4, 6], np.float32)
    for bad in (np.nan, np.inf, -np.inf):
        for index in ((0, 0), (2, 3), (3, 5)):
            real = ones.copy()
            real[index] = bad
            in_real = tf.complex(tf.constant(real), tf.constant(ones))
            in_imag = tf.complex(tf.constant(ones), tf.constant(real))
            got = checks({"real": tf.constant(real), "in_real": in_real, "in_imag": in_imag})
            assert not any(bool(finite) for finite, _ in got.values()), (bad, index)
    varying = np.arange(24, dtype=np.float32).reshape(4, 6)
    got = checks({"constant": tf.constant(ones), "varying": tf.constant(varying), "ints": tf.constant(varying.astype(np.int32)),
                  "complex_constant": tf.complex(tf.constant(ones), -2 * tf.constant(ones)),
                  "imag_varies": tf.complex(tf.constant(ones), tf.constant(varying)),
                  "output": tf.constant(np.full([2], np.nan, np.float32))})
    assert {name: (bool(f), bool(c)) for name, (f, c) in got.items()} == {
        "constant": (True, True), "varying": (True, False), "ints": (True, False), "complex_constant": (True, True),
        "imag_varies": (True, False)}
