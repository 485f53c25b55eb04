"""Measured transmit power and comparisons a researcher can trust: a declared power is checked, a
measured one calibrates the axis, effective SNRs come from the measured power, equal-power comparison
finds no gap between copies of one link sent at different powers, and the SNR to reach a target is the
hand-computed interpolation."""
import math

import numpy as np
import pytest

from linksim.cli import main
from linksim.output.comparison import Series, snr_to_reach, value_at
from linksim.output.results import Results
from tests.test_cli_and_results import _cells


def _analog(std=1.0, signal_power=1.0, name="analog"):
    return {"name": name, "signal_power": signal_power, "source": {"type": "gaussian", "size": 64, "std": std},
            "stages": [{"type": "real_awgn"}], "metrics": [{"type": "mse", "sent": "latent", "received": "received"}]}


def _scenario(curves, convention="snr", values=(0.0, 10.0), samples=2000):
    return {"name": "power", "seed": 3, "snr": {"convention": convention, "values": list(values)},
            "montecarlo": {"batch_size": 1000, "max_samples": samples, "target_errors": None, "execution": "graph"}, "curves": curves}


def test_a_wrong_declared_power_stops_the_run_before_anything_is_written(write_scenario, tmp_path, capsys):
    out = tmp_path / "r.h5"
    assert main(["run", write_scenario(_scenario([_analog(std=2.0)])), "--out", str(out), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert len(err.splitlines()) == 1 and "signal_power 1 is declared, but the mean power of the channel input ('latent') is 3.9" in err
    assert not out.exists() and not (tmp_path / "r.csv").exists()
    assert main(["run", write_scenario(_scenario([_analog(std=2.0, signal_power=4.0)])), "--out", str(out), "--quiet"]) == 0


def test_effective_snr_comes_from_the_measured_power(write_scenario, tmp_path, capsys):
    """Declared 4 (std 2): the axis is true; nominal (std 2): noise as for power 1, so the effective SNR
    is 6.02 dB above the axis; the noise power itself (the MSE) is the same on both."""
    out = tmp_path / "r.h5"
    curves = [_analog(std=2.0, signal_power=4.0, name="declared"), _analog(std=2.0, signal_power="nominal", name="nominal")]
    assert main(["run", write_scenario(_scenario(curves)), "--out", str(out), "--quiet"]) == 0
    results = Results.load(out)
    rows = [line.split(",") for line in (tmp_path / "r.csv").read_text().splitlines()[1:]]
    effective = {(r[0], float(r[1])): (float(r[4]), float(r[5]), float(r[6])) for r in rows if r[3] == "effective_snr_db"}
    for name, shift in (("declared", 0.0), ("nominal", 10 * math.log10(4.0))):
        curve = results.curve(name)
        assert curve.power_axis == ("declared" if name == "declared" else "nominal")
        for point in curve.points:
            power = point.stats["tx_power"]["sum"] / point.stats["tx_power"]["count"]
            assert power == pytest.approx(4.0, rel=0.02)  # 128 000 values of N(0, 4)
            value, low, high = effective[(name, point.snr_db)]
            assert value == pytest.approx(point.snr_db + 10 * math.log10(power / curve.signal_power), abs=1e-4)
            assert low <= point.snr_db + shift <= high  # the true effective SNR inside the interval of the measurement
    assert main(["table", str(out)]) == 0
    table = capsys.readouterr().out
    assert "signal power 4, declared signal power, checked" in table and "nominal axis: noise as for power 1" in table


def test_a_measured_power_is_the_mean_power_of_the_training_split(write_scenario, tmp_path):
    from linksim.catalogue.image_files import bundled_photos
    from linksim.scenario import parse_scenario

    spec = {"name": "photos", "seed": 1, "data": {"dataset": "bundled-photos", "patch_size": 16},
            "snr": {"convention": "snr", "values": [0.0, 10.0]},
            "montecarlo": {"batch_size": 200, "max_samples": 1000, "target_errors": None, "execution": "graph"},
            "curves": [{"name": "raw", "signal_power": "measured", "source": {"type": "images", "split": "test"},
                        "stages": [{"type": "real_awgn"}], "metrics": [{"type": "mse", "sent": "images", "received": "received"}]}]}
    out = tmp_path / "m.h5"
    assert main(["run", write_scenario(spec), "--out", str(out), "--quiet"]) == 0
    curve = Results.load(out).curve("raw")
    train = bundled_photos("train", 16).images.astype(np.float64) / 255.0
    test = bundled_photos("test", 16).images[:1000].astype(np.float64) / 255.0
    assert curve.power_axis == "measured" and curve.signal_power == pytest.approx(np.mean(train ** 2), rel=1e-5)
    for point in curve.points:  # the noise refers to the training power; the test photos send their own
        assert point.no == pytest.approx(np.mean(train ** 2) / 10 ** (point.snr_db / 10), rel=1e-5)
        measured = point.stats["tx_power"]["sum"] / point.stats["tx_power"]["count"]
        assert measured == pytest.approx(np.mean(test ** 2), rel=1e-5)
    bad = {**spec, "curves": [{**spec["curves"][0], "source": {"type": "bits", "num_bits": 8}, "metrics": [{"type": "ber"}]}]}
    assert main(["validate", write_scenario(bad)]) == 2
    with pytest.raises(Exception, match="training stage .s. trains .latent. with stages after it or through the channel"):
        learned = dict(spec["curves"][0], stages=[{"type": "conv_encoder"}, {"type": "real_awgn"}, {"type": "conv_decoder"}],
                       metrics=[{"type": "psnr"}], training={"stages": [{"name": "s", "train": ["latent", "reconstruction"],
                                                                         "steps": 1, "snr": {"low": 0.0, "high": 1.0}}]})
        parse_scenario({**spec, "curves": [learned]})


def _bpsk(name, factor):
    return {"name": name, "signal_power": "nominal", "source": {"type": "bits", "num_bits": 100},
            "stages": [{"type": "mapper", "modulation": "bpsk"}, {"type": "scale", "factor": factor}, {"type": "awgn"},
                       {"type": "scale", "factor": 1 / factor, "tap": "normalised"}, {"type": "slicer", "modulation": "bpsk"}],
            "metrics": [{"type": "ber"}]}


def test_equal_power_comparison_of_one_link_sent_at_two_powers_finds_no_gap(write_scenario, tmp_path, capsys):
    """The same BPSK link sent 2 dB louder: 2 dB apart on the nominal axis, the same at equal power."""
    spec = _scenario([_bpsk("unit", 1.0), _bpsk("louder", 10 ** (2 / 20))], convention="esno", values=[float(v) for v in range(9)],
                     samples=100_000)
    out = tmp_path / "b.h5"
    assert main(["run", write_scenario(spec), "--out", str(out), "--quiet"]) == 0
    assert main(["compare", str(out), "--baseline", "unit"]) == 0
    nominal = capsys.readouterr().out
    assert nominal.startswith("# ber; ratio = curve / unit; SNR axis: nominal")
    assert float(_cells(nominal)[-1][-1].lstrip("×")) < 0.6  # louder: far fewer errors at the same nominal SNR
    assert main(["compare", str(out), "--baseline", "unit", "--axis", "effective"]) == 0
    effective = capsys.readouterr().out
    assert "# ranking changes at equal power: louder against unit" in effective
    header, *rows = _cells(effective)
    assert header[0] == "eff. Es/N0 dB"  # the axis shown
    results = Results.load(out)
    for row in rows[:-1]:
        if row[3] == "-":  # below the louder link's lowest effective SNR
            continue
        x, ratio = float(row[0]), float(row[3].lstrip("×"))
        point = next(p for p in results.curve("louder").points if math.isclose(p.snr_db + 2, x, abs_tol=0.05))
        errors = point.stats["ber"]["errors"]
        assert abs(math.log(ratio)) < 4 / math.sqrt(errors)  # equal within the Monte Carlo spread
    assert rows[-1][0] == "mean" and 0.9 < float(rows[-1][-1].lstrip("×")) < 1.1


def test_snr_to_reach_a_target_is_the_hand_computed_interpolation():
    rates = Series("c", "rate", np.array([0.0, 1.0, 2.0, 3.0]), np.array([1e-1, 1e-2, 1e-3, 1e-5]))
    x, how = snr_to_reach(rates, 1e-4)  # between 2 dB (1e-3) and 3 dB (1e-5), linear in log10: halfway
    assert how == "interpolated" and x == pytest.approx(2.5)
    assert snr_to_reach(rates, 1e-6) == (pytest.approx(float("nan"), nan_ok=True), "not reached")
    assert snr_to_reach(rates, 0.5) == (0.0, "below the sweep")
    psnr = Series("p", "mean", np.array([0.0, 4.0, 8.0]), np.array([20.0, 24.0, 26.0]))
    assert snr_to_reach(psnr, 25.0) == (pytest.approx(6.0), "interpolated")
    assert snr_to_reach(psnr, 24.0) == (4.0, "at a point")
    mse = Series("m", "mean", np.array([0.0, 10.0]), np.array([0.5, 0.1]))
    assert snr_to_reach(mse, 0.3)[0] == pytest.approx(5.0)
    assert value_at(rates, 1.5) == pytest.approx(math.sqrt(1e-2 * 1e-3))
    from linksim.output.comparison import _gap
    assert math.isnan(_gap("rate", 1e-3, 0.0)) and _gap("rate", 1e-3, 1e-2) == pytest.approx(0.1)  # no error-free division
    assert math.isnan(value_at(rates, 3.5))


def test_compare_at_a_target_and_without_naming_a_metric(write_scenario, tmp_path, capsys):
    spec = _scenario([_bpsk("unit", 1.0), _bpsk("louder", 10 ** (2 / 20))], convention="esno", values=[0.0, 2.0, 4.0, 6.0, 8.0],
                     samples=20_000)
    out = tmp_path / "t.h5"
    assert main(["run", write_scenario(spec), "--out", str(out), "--quiet"]) == 0
    assert main(["compare", str(out), "--baseline", "unit", "--at", "ber=1e-3"]) == 0
    lines = capsys.readouterr().out.splitlines()
    results = Results.load(out)

    def hand(name):  # the last crossing below 1e-3, linear in log10(BER) between the two points around it
        points = results.curve(name).points
        ber = [p.stats["ber"]["errors"] / p.stats["ber"]["trials"] for p in points]
        k = next(i for i in range(1, len(ber)) if ber[i] <= 1e-3 < ber[i - 1])
        weight = (math.log10(1e-3) - math.log10(ber[k - 1])) / (math.log10(ber[k]) - math.log10(ber[k - 1]))
        return points[k - 1].snr_db + weight * (points[k].snr_db - points[k - 1].snr_db)

    needed = {line.split()[0]: line.split() for line in lines[2:]}
    assert float(needed["unit"][1]) == pytest.approx(hand("unit"), abs=0.006)
    assert float(needed["louder"][2]) == pytest.approx(hand("louder") - hand("unit"), abs=0.011)
    assert -2.6 < float(needed["louder"][2]) < -1.4  # about 2 dB less nominal SNR
    assert main(["compare", str(out), "--baseline", "unit", "--at", "psnr=30"]) == 2
    assert "metrics: ber, tx_power" in capsys.readouterr().err


def test_replicates_at_different_powers_average_point_by_point_on_the_effective_axis():
    """Three replicates of one sweep whose measured powers differ: the mean keeps every point (at the
    mean effective SNR), where interpolating at the first replicate's SNRs lost the ends."""
    import numpy as np

    from linksim.output.comparison import Series, _mean_series, value_at

    nominal = np.array([-10.0, -5.0, 0.0, 5.0])
    shifts, offsets = (1.0, -0.5, 2.0), (0.0, 0.3, -0.3)
    replicates = [Series("c", "mean", nominal + s, 20 + nominal / 5 + o) for s, o in zip(shifts, offsets)]
    mean = _mean_series("c", replicates)
    np.testing.assert_allclose(mean.x, nominal + np.mean(shifts))
    np.testing.assert_allclose(mean.values, 20 + nominal / 5)
    assert not np.isnan(value_at(mean, float(mean.x[0])))
