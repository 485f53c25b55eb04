"""Training checkpoints: where a curve's trained weights live and how they are written and read.

A checkpoint is found by its configuration hash alone: ``<root>/<hash>/`` (per SNR point below it
for ``per_point`` training), where the hash covers exactly what determines the trained weights —
the curve's stages and training, its source's and the dataset's training-relevant settings, the seed,
the SNR convention and the curve it starts from — and nothing a sweep only reads (the scenario's and
curve's names, metrics, the closed-form reference, evaluation options). So renaming a scenario or a
curve, or adding a metric, reuses the weights; any change of what training does trains anew.
Checkpoints of the earlier layout (``<root>/<scenario>/<curve>-<hash of format 1>/``) are moved into
place on first use (:mod:`linksim.run.checkpoint_migration`).

Each save writes the learned weights (Keras ``.weights.h5``), the optimizer variables (``.npz``,
loaded without pickle) and the progress (``state.json``) to a fresh folder that then replaces the
previous one, so an interrupted training resumes from its last finished epoch. Nothing here runs a
model.
"""
import json
import os
import shutil

import numpy as np

from linksim.engine.errors import InputError
from linksim.run.config_digest import digest

__all__ = ["FORMAT", "config_hash", "checkpoint_path", "shipped_path", "trained_checkpoint", "SHIPPED_ROOT", "CheckpointStore",
           "loss_history"]

FORMAT = 2
WEIGHTS_FILE = "learned.weights.h5"


def training_description(params) -> dict:
    """``params`` (a component's scenario parameters) dumped without what never changes trained weights:
    its ``evaluation_only`` parameters, and parameters added later that keep their default."""
    described = params.model_dump(mode="json")
    for key, default in params.added_later.items():
        if described.get(key) == default:
            del described[key]
    for key in params.evaluation_only:
        described.pop(key, None)
    return described


def config_hash(scenario, curve, replicate: int = 0) -> str:
    """12 hex digits over everything that determines the trained weights of ``curve``'s replicate
    ``replicate`` (see the module docstring). The number of replicates does not enter (replicate 0 is
    the unreplicated curve); a curve started from another (``init_from``) enters by that curve's hash."""
    training = curve.training.model_dump(mode="json") if curve.training is not None else None
    if training is not None:
        del training["replicates"], training["resources"]  # neither changes a replicate's weights
        training["stages"] = [training_description(stage) | {"loss": training_description(stage.loss),
                                                             "channel": training_description(stage.channel)}
                              for stage in curve.training.stages]
        del training["init_from"]
    payload = {
        "format": FORMAT, "seed": scenario.seed, "convention": scenario.snr.convention,
        "data": training_description(scenario.data), "source": training_description(curve.source),
        "stages": [training_description(stage) for stage in curve.stages], "training": training,
        "coderate": curve.coderate, "signal_power": 1.0 if curve.signal_power == "nominal" else curve.signal_power,
    }
    return digest(payload, scenario, curve, replicate, config_hash)


SHIPPED_ROOT = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "weights")  # linksim/weights


def shipped_path(scenario, curve, point=None, replicate: int = 0) -> str | None:
    """The finished checkpoint shipped with linksim for this curve's configuration hash under
    ``linksim/weights/``, or ``None``."""
    path = _folder(SHIPPED_ROOT, config_hash(scenario, curve, replicate), point)
    state = CheckpointStore(path).state() if os.path.isdir(path) else None
    return path if state is not None and state.get("complete") else None


def trained_checkpoint(scenario, curve, root="checkpoints", point=None, replicate: int = 0, shipped: bool = True) -> str:
    """The folder to load ``curve``'s trained weights from: its checkpoint under ``root``, or, where that
    has none and ``shipped``, the one shipped with linksim (:func:`shipped_path`) if any."""
    directory = checkpoint_path(scenario, curve, root, point, replicate)
    if shipped and CheckpointStore(directory).state() is None:
        return shipped_path(scenario, curve, point, replicate) or directory
    return directory


def checkpoint_path(scenario, curve, root="checkpoints", point=None, replicate: int = 0) -> str:
    """Checkpoint folder of ``curve`` (its replicate ``replicate``) under ``root``; of its SNR point
    ``point`` (dB) for ``per_point`` training. A checkpoint of the earlier layout is moved here first."""
    from linksim.run.checkpoint_migration import migrate

    digest = config_hash(scenario, curve, replicate)
    migrate(scenario, curve, root, replicate, _folder(root, digest))
    return _folder(root, digest, point)


def _folder(root, digest, point=None) -> str:
    return os.path.join(root, digest) if point is None else os.path.join(root, digest, f"snr{float(point):+g}dB")


class CheckpointStore:
    """The checkpoint folder of one trained curve (or SNR point).

    ``current/`` holds the last complete save; a save goes to ``incoming/`` and then replaces it
    (the old one is kept as ``previous/`` until the replacement is done, and read if ``current/``
    is missing after an interruption).

    Parameters
    ----------
    directory : str
    """

    def __init__(self, directory: str):
        self.directory = directory

    @property
    def current_folder(self) -> str:
        """The folder of the last complete save (``previous/`` if interrupted mid-replacement)."""
        current, old = os.path.join(self.directory, "current"), os.path.join(self.directory, "previous")
        return current if os.path.isdir(current) else old

    def state(self) -> dict | None:
        """The saved progress (``state.json``), or ``None`` without a save; ``InputError`` if damaged."""
        folder = self.current_folder
        try:
            with open(os.path.join(folder, "state.json")) as f:
                return json.load(f)
        except FileNotFoundError:
            return None
        except (OSError, json.JSONDecodeError) as exc:
            raise InputError(f"{folder}/state.json: damaged checkpoint ({exc}); delete the folder to retrain") from None

    def load_weights(self, model) -> None:
        """Load the saved learned weights into ``model`` (a Keras model tracking the learned layers)."""
        model.load_weights(os.path.join(self.current_folder, WEIGHTS_FILE))

    def load_optimizer(self, optimizer) -> None:
        """Load the saved optimizer variables into a built ``optimizer``."""
        folder = self.current_folder
        with np.load(os.path.join(folder, "optimizer.npz"), allow_pickle=False) as saved:
            values = [saved[f"arr_{i}"] for i in range(len(saved.files))]
        if len(values) != len(optimizer.variables):
            raise InputError(f"{folder}/optimizer.npz: does not match this training stage; delete the folder to retrain")
        for variable, value in zip(optimizer.variables, values):
            variable.assign(value)

    def save(self, model, optimizer, state: dict) -> str:
        """Write weights, optimizer variables (none if ``optimizer`` is ``None``) and ``state``; returns
        the new current folder."""
        os.makedirs(self.directory, exist_ok=True)
        fresh = os.path.join(self.directory, "incoming")
        shutil.rmtree(fresh, ignore_errors=True)
        os.makedirs(fresh)
        model.save_weights(os.path.join(fresh, WEIGHTS_FILE))
        np.savez(os.path.join(fresh, "optimizer.npz"), *[v.numpy() for v in (optimizer.variables if optimizer else [])])
        with open(os.path.join(fresh, "state.json"), "w") as f:
            json.dump(state, f, indent=1)
        current, previous = os.path.join(self.directory, "current"), os.path.join(self.directory, "previous")
        shutil.rmtree(previous, ignore_errors=True)
        if os.path.isdir(current):
            os.replace(current, previous)
        os.replace(fresh, current)
        shutil.rmtree(previous, ignore_errors=True)
        return current


def loss_history(scenario, curve, root="checkpoints", point=None, replicate: int = 0) -> list[dict] | None:
    """The epoch means of ``curve``'s training as its checkpoint under ``root`` holds them (finished or
    not; else the weights shipped with linksim), or ``None`` without either: one row per epoch, ``{stage, round, epoch, loss, head}`` with
    ``head`` ``drawn`` / ``replayed`` in ``cache_head`` stages (``""`` elsewhere), ``epoch`` from 1."""
    state = CheckpointStore(trained_checkpoint(scenario, curve, root, point, replicate)).state()
    if state is None:
        return None
    stages = {stage.name: stage for stage in curve.training.stages}
    rows = []
    for name, rnd, epoch, loss in state["losses"]:
        cache = stages[name].cache_head
        rows.append({"stage": name, "round": rnd + 1, "epoch": epoch + 1, "loss": loss,
                     "head": "" if cache is None else "drawn" if epoch < cache else "replayed"})
    return rows
