"""Your own Sionna block as a scenario stage: scramble → 16-QAM → AWGN → slice → descramble.

The stage comes from the plugin module ``my_stages.py`` beside this file. Scrambling twice with the same
sequence is the identity, so the link's BER must equal the exact uncoded 16-QAM BER.

    python examples/own_block_as_stage.py
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))  # where my_stages.py lives

import linksim  # noqa: E402

SCENARIO = {
    "name": "scrambled_qam16",
    "plugins": ["my_stages"],  # declared: validation checks it is loaded, the scenario never imports it
    "seed": 1,
    "snr": {"convention": "ebno", "values": [4.0, 8.0]},
    "montecarlo": {"batch_size": 500, "target_errors": 2000, "max_samples": 20_000},
    "curves": [{
        "name": "scrambled",
        "source": {"type": "bits", "num_bits": 1024},
        "stages": [
            {"type": "sionna_scrambler", "seed": 42, "tap": "scrambled"},
            {"type": "mapper", "modulation": "qam16"},
            {"type": "awgn"},
            {"type": "slicer", "modulation": "qam16"},
            {"type": "sionna_scrambler", "seed": 42, "tap": "descrambled"},
        ],
        "metrics": [{"type": "ber", "sent": "bits", "received": "descrambled"}],
        "theory": {"type": "awgn_ber", "modulation": "qam16"},
    }],
}


def main(out="results/scrambled_qam16.h5"):
    scenario = linksim.load_scenario(SCENARIO, plugins=["my_stages"])
    results = scenario.run(out=out, quiet=True, figures=False)
    for row in results.to_rows():
        if row["metric"] in ("ber", "ber_closed_form"):
            print(f"{row['metric']:16s} Eb/N0 {row['snr_db']:4.1f} dB: {row['value']:.4e}")
    return results


if __name__ == "__main__":
    main()
