"""Every scenario in scenarios/ validates: the ones that read data you own do so against stand-in
folders of the expected layout (image folders hold a Kodak-sized landscape and portrait picture,
whose headers the whole-image metrics read)."""
import pathlib

import pytest
import yaml
from PIL import Image

from linksim.scenario import parse_scenario

SCENARIOS = sorted((pathlib.Path(__file__).resolve().parents[1] / "scenarios").glob("*.yaml"))


def _stand_in(data, root):
    """Point a user-owned dataset at an empty folder of its layout under ``root``."""
    kind = data.get("dataset")
    if kind == "cifar10":
        (root / "cifar-10-batches-bin").mkdir()
        (root / "cifar-10-batches-bin" / "test_batch.bin").write_bytes(b"")
        data["path"] = str(root)
    elif kind == "image-folder":
        for key in ("path", "train_path"):
            if key in data:
                (root / key).mkdir()
                for name, size in (("landscape.png", (768, 512)), ("portrait.png", (512, 768))):
                    Image.new("RGB", size).save(root / key / name)
                data[key] = str(root / key)
    elif kind == "amos":
        for folder in ("imagesTr", "labelsTr", "imagesVa", "labelsVa"):
            (root / folder).mkdir()
        data["path"] = str(root)
    return data


@pytest.mark.parametrize("path", SCENARIOS, ids=[p.name for p in SCENARIOS])
def test_every_shipped_scenario_validates(path, tmp_path):
    scenario = yaml.safe_load(path.read_text())
    if "data" in scenario:
        scenario["data"] = _stand_in(dict(scenario["data"]), tmp_path)
    parse_scenario(scenario, str(path))


@pytest.mark.parametrize("path", SCENARIOS, ids=[p.name for p in SCENARIOS])
def test_every_shipped_scenario_survives_its_resolved_text(path):
    """Ray workers rebuild a scenario from its resolved text (every default written out): it must
    validate again (no "remove this key" check may fire on a default) into the same scenario, explicit
    nulls included (``target_errors: null`` is not the default 1000)."""
    from linksim.scenario import resolved_yaml

    spec = parse_scenario(yaml.safe_load(path.read_text()), str(path), data_files=False)
    text = resolved_yaml(spec)
    again = parse_scenario(yaml.safe_load(text), "<resolved>", data_files=False)
    assert resolved_yaml(again) == text and again == spec
