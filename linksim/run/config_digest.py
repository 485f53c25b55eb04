"""The digest that names a training checkpoint (shared by the current configuration hash and its legacy format)."""
import hashlib
import json

__all__ = ["digest"]


def digest(payload: dict, scenario, curve, replicate: int, hash_of) -> str:
    """12 hex digits of SHA-256 over ``payload`` with the replicate's index (other than 0) and, for ``init_from``, the
    hash ``hash_of(scenario, source, replicate)`` of the curve it starts from (the source's replicate 0 where it has fewer)."""
    payload = dict(payload)
    if curve.training is not None and curve.training.init_from is not None:
        source = scenario.curve_named(curve.training.init_from)
        payload["init_from"] = hash_of(scenario, source, replicate if replicate < source.replicates else 0)
    if replicate:
        payload["replicate"] = replicate
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()[:12]
