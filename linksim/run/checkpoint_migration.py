"""Checkpoints of the layout before configuration-only hashes (format 1), moved into place on first use.

Format 1 kept a checkpoint in ``<root>/<scenario>/<curve>-<hash>/``, where the hash also covered the
curve's name, metrics and closed-form reference. :func:`migrate` finds such a folder for a curve and
renames it to the folder of its format-2 hash (:func:`linksim.run.checkpoints.checkpoint_path`), so
trainings done before the change are reused, never repeated. :func:`legacy_config_hash` is format 1's
hash, frozen: it must not change, or older checkpoints are no longer found.
"""
import os

from linksim.run.config_digest import digest

__all__ = ["legacy_config_hash", "legacy_folder", "migrate"]

ADDED_SINCE_FORMAT_1 = ("cache_head",)  # training-stage options newer than format 1: hashed only when set
BRIDGE_ADDED_SINCE_FORMAT_1 = {"mask_value": 0.0}  # bridge options newer than format 1: hashed only when not default


def _drop_added_later(params, described: dict) -> dict:
    for key, default in params.added_later.items():
        if described.get(key) == default:
            del described[key]
    return described


def legacy_config_hash(scenario, curve, replicate: int = 0) -> str:
    """Format 1's configuration hash of ``curve``'s replicate ``replicate`` (12 hex digits)."""
    described = curve.model_dump(mode="json")
    if described["training"] is not None:
        del described["training"]["replicates"], described["training"]["resources"]
    for params, stage in zip(curve.stages, described["stages"]):
        _drop_added_later(params, stage)
        for key in params.evaluation_only:
            del stage[key]
    for params, metric in zip(curve.metrics, described["metrics"]):
        _drop_added_later(params, metric)
    if described["weights"] is None:
        del described["weights"]
    if described["signal_power"] == "nominal":
        described["signal_power"] = 1.0
    for stage in (described["training"] or {}).get("stages", []):
        for key in ADDED_SINCE_FORMAT_1:
            if stage[key] is None:
                del stage[key]
        bridge = stage.get("channel")
        for key, default in BRIDGE_ADDED_SINCE_FORMAT_1.items():
            if isinstance(bridge, dict) and bridge.get(key) == default:
                del bridge[key]
    data = _drop_added_later(scenario.data, scenario.data.model_dump(mode="json"))
    payload = {"format": 1, "curve": described, "data": data, "seed": scenario.seed, "convention": scenario.snr.convention}
    return digest(payload, scenario, curve, replicate, legacy_config_hash)


def legacy_folder(scenario, curve, root, replicate: int = 0) -> str:
    """Where format 1 kept ``curve``'s checkpoint under ``root``."""
    return os.path.join(root, scenario.name, f"{curve.name}-{legacy_config_hash(scenario, curve, replicate)}")


def migrate(scenario, curve, root, replicate: int, target: str) -> bool:
    """Rename ``curve``'s format-1 checkpoint under ``root`` to ``target`` where ``target`` does not exist
    yet; whether a folder was moved. The emptied scenario folder is removed."""
    if curve.training is None or os.path.exists(target):
        return False
    old = legacy_folder(scenario, curve, root, replicate)
    if not os.path.isdir(old):
        return False
    os.makedirs(os.path.dirname(target) or ".", exist_ok=True)
    os.replace(old, target)
    try:
        os.rmdir(os.path.dirname(old))
    except OSError:
        pass  # other curves' checkpoints are still there
    return True
