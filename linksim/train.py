"""Training the learned stages of a curve, with checkpoints keyed by configuration.

A curve's ``training`` is a schedule of stages (repeated ``rounds`` times); each stage updates
the named learned stages, freezes the others, and minimises its objective (``loss``, a registered
:mod:`linksim.objectives` component) on batches of the dataset's training split at a training SNR
drawn per batch. Its bridge (``channel``, :mod:`linksim.bridges`) decides what the non-learned
span between the learned stages hands on in training. The ``add_loss`` terms of the trained
layers are added to the objective.

:class:`CurveWeights` gives the Monte Carlo runner the trained weights of each curve: it trains
missing checkpoints (or refuses to), loads finished ones and, for ``per_point`` curves, swaps in
the weights of the SNR point being run.

Checkpoints live in ``<root>/<scenario>/<curve>-<hash>/`` where the hash covers everything that
determines the trained weights (the curve, the data settings, the seed, the SNR convention), so
a changed configuration never reuses stale weights. After every epoch the learned weights
(Keras ``.weights.h5``), the optimizer variables (``.npz``, loaded without pickle) and the
progress (``state.json``) are written to a fresh folder that then replaces the previous one, so
an interrupted training resumes from its last finished epoch and ends with the same weights as an
uninterrupted one. Randomness (initial weights, data order, SNRs, noise) depends on (seed,
curve, stage, epoch, step) only.
"""
import hashlib
import json
import os
import shutil
import sys
import time

import numpy as np

from linksim.errors import InputError
from linksim.objectives import TrainingRun

__all__ = ["config_hash", "checkpoint_path", "Trainer", "load_weights", "CurveWeights", "loss_history"]

FORMAT = 1
ADDED_SINCE_FORMAT = ("cache_head",)  # training-stage options newer than FORMAT: hashed only when set, so older checkpoints stay valid
WINDOWS_PER_EPOCH = 10  # loss windows kept per epoch (state['windows'], loss.png)


def config_hash(scenario, curve) -> str:
    """12 hex digits over everything that determines the trained weights of ``curve`` (with the
    hash of the curve it starts from, for ``init_from``)."""
    described = curve.model_dump(mode="json")
    for stage in (described["training"] or {}).get("stages", []):
        for key in ADDED_SINCE_FORMAT:
            if stage[key] is None:
                del stage[key]
    payload = {"format": FORMAT, "curve": described, "data": scenario.data.model_dump(mode="json"),
               "seed": scenario.seed, "convention": scenario.snr.convention}
    if curve.training is not None and curve.training.init_from is not None:
        payload["init_from"] = config_hash(scenario, scenario.curve_named(curve.training.init_from))
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()[:12]


def checkpoint_path(scenario, curve, root="checkpoints", point=None) -> str:
    """Checkpoint folder of ``curve``; of its SNR point ``point`` (dB) for ``per_point`` training."""
    base = os.path.join(root, scenario.name, f"{curve.name}-{config_hash(scenario, curve)}")
    return base if point is None else os.path.join(base, f"snr{float(point):+g}dB")


def _learned_layers(link):
    return {s.tap: s.block for s in link.stages if s.learned}


def _build_layers(link, sample_shape):
    """Keras layers build on their first call: run the link once on one all-zero sample, nearly
    noiseless (N0 = 1e-6), where receivers whose work grows with the noise (a reverse-diffusion
    sampler starting at the channel's noise level) do the least."""
    import tensorflow as tf

    link(1, tf.constant(1e-6), tf.constant(0.0), tf.constant([0, 0]), tf.zeros([len(link.stages)]),
         inputs=tf.zeros((1,) + tuple(sample_shape)))


def _holder(layers):
    import keras

    class LearnedParts(keras.Model):
        """Tracks the learned layers so that Keras saves their weights together."""

        def __init__(self, parts):
            super().__init__()
            self.parts = list(parts)

        def call(self, x):
            return x

    model = LearnedParts([layers[k] for k in sorted(layers)])
    model.built = True
    return model


def load_weights(link, directory, sample_shape):
    """Load a finished checkpoint into the link's learned layers; ``InputError`` if absent."""
    current = _current(directory)
    state = _read_state(current)
    if state is None or not state.get("complete"):
        raise InputError(f"{directory}: no finished training checkpoint; run `linksim train` (or `linksim run`) first")
    layers = _learned_layers(link)
    _build_layers(link, sample_shape)
    _holder(layers).load_weights(os.path.join(current, "learned.weights.h5"))
    return state


def loss_history(scenario, curve, root="checkpoints", point=None) -> list[dict] | None:
    """The epoch means of ``curve``'s training as its checkpoint holds them (finished or not), or
    ``None`` without a checkpoint: one row per epoch, ``{stage, round, epoch, loss, head}`` with
    ``head`` ``drawn`` / ``replayed`` in ``cache_head`` stages (``""`` elsewhere), ``epoch`` from 1."""
    state = _read_state(_current(checkpoint_path(scenario, curve, root, point)))
    if state is None:
        return None
    stages = {stage.name: stage for stage in curve.training.stages}
    rows = []
    for name, rnd, epoch, loss in state["losses"]:
        cache = stages[name].cache_head
        rows.append({"stage": name, "round": rnd + 1, "epoch": epoch + 1, "loss": loss,
                     "head": "" if cache is None else "drawn" if epoch < cache else "replayed"})
    return rows


def _current(directory):
    current, old = os.path.join(directory, "current"), os.path.join(directory, "previous")
    return current if os.path.isdir(current) else old


def _read_state(folder):
    try:
        with open(os.path.join(folder, "state.json")) as f:
            return json.load(f)
    except FileNotFoundError:
        return None
    except (OSError, json.JSONDecodeError) as exc:
        raise InputError(f"{folder}/state.json: damaged checkpoint ({exc}); delete the folder to retrain") from None


class Trainer:
    """Trains one curve's learned stages, resuming from its checkpoint.

    Parameters
    ----------
    scenario : linksim.scenario.Scenario
    curve_index : int
    link : linksim.link.Link
        The curve's link (from :class:`linksim.montecarlo.ChunkRunner`); its learned layers are
        trained in place.
    root : str
        Checkpoint root folder.
    stream : file or None
        Where progress goes; ``None`` for silence.
    point : float or None
        For ``per_point`` training: the SNR point (dB) to train at.
    """

    def __init__(self, scenario, curve_index, link, root="checkpoints", stream=sys.stdout, point=None):
        self.scenario, self.c, self.link = scenario, curve_index, link
        self.curve = scenario.curves[curve_index]
        self.point = point
        self.root = root
        self.directory = checkpoint_path(scenario, self.curve, root, point)
        self.stream = stream
        self.layers = _learned_layers(link)
        self.label = self.curve.name if point is None else f"{self.curve.name} @ {point:g} dB"
        self._heads = {}  # drawn epoch → the head's taps of each step, for the ``cache_head`` stage running

    def _say(self, text, end="\n"):
        if self.stream is not None:
            self.stream.write(text + end)
            self.stream.flush()

    def _schedule(self):
        return [(r, s) for r in range(self.curve.training.rounds) for s in self.curve.training.stages]

    def run(self, max_epochs=None) -> dict:
        """Train what the checkpoint has not finished; returns the final state.

        ``max_epochs`` stops after that many epochs of this call (to test resumption).
        """
        import keras

        train = self.scenario.data.load("train", self.scenario.seed)
        # Initial weights depend on (seed, curve) only: seed Keras' initializers, then build.
        keras.utils.set_random_seed(int(np.random.SeedSequence(self.scenario.seed, spawn_key=(2, self.c)).generate_state(1)[0]))
        _build_layers(self.link, train.shape[1:])
        holder = _holder(self.layers)
        state = {"config_hash": config_hash(self.scenario, self.curve), "item": 0, "epoch": 0, "losses": [], "windows": [],
                 "complete": False}
        current = _current(self.directory)
        saved = _read_state(current) if os.path.isdir(current) else None
        if saved is not None:
            holder.load_weights(os.path.join(current, "learned.weights.h5"))
            state = saved
            if state["complete"]:
                self._say(f"# {self.label}: trained weights reused from {self.directory}")
                return state
            self._say(f"# {self.label}: resuming training from {self.directory} (stage {state['item'] + 1}, epoch {state['epoch']})")
        elif self.curve.training.init_from is not None:
            self._initialise_from(self.curve.training.init_from, train.shape[1:])
        if not self._schedule():  # init_from only: the copied weights are the result
            state["complete"] = True
            self._calibrate(train)
            self._save(holder, None, state)
            return state
        epochs_run = 0
        for item, (rnd, stage) in enumerate(self._schedule()):
            if item < state["item"]:
                continue
            steps_per_epoch = len(train) // stage.batch_size
            if steps_per_epoch == 0:
                raise InputError(f"training stage {stage.name!r}: batch_size {stage.batch_size} exceeds the {len(train)} training samples")
            epochs = stage.epochs or -(-stage.steps // steps_per_epoch)
            total_steps = stage.steps or epochs * steps_per_epoch
            optimizer, step_fn, variables = self._optimizer_and_step(stage, total_steps)
            head_fn = self._head_function(stage) if stage.cache_head else None
            self._heads = {}  # each stage stores its own heads
            if item == state["item"] and state["epoch"] > 0:
                self._load_optimizer(optimizer, variables, current)
            for epoch in range(state["epoch"] if item == state["item"] else 0, epochs):
                if max_epochs is not None and epochs_run >= max_epochs:
                    return state
                num_steps = min(steps_per_epoch, total_steps - epoch * steps_per_epoch)
                loss, windows = self._epoch(train, stage, item, epoch, num_steps, step_fn, rnd, epochs, head_fn)
                epochs_run += 1
                last = epoch + 1 == epochs
                state = {**state, "item": item + 1 if last else item, "epoch": 0 if last else epoch + 1,
                         "losses": state["losses"] + [[stage.name, rnd, epoch, loss]],
                         "windows": state.get("windows", []) + [[stage.name, rnd, epoch, *w] for w in windows]}
                state["complete"] = last and item + 1 == len(self._schedule())
                if last and stage.ema is not None:
                    optimizer.finalize_variable_values(variables)  # the stage ends on the moving average of its weights
                if state["complete"]:
                    self._calibrate(train)
                self._save(holder, optimizer, state)
        return state

    def _initialise_from(self, name, sample_shape):
        """Copy the trained weights of curve ``name`` into the layers with the same taps."""
        from linksim.scenario import build_curve

        source = self.scenario.curve_named(name)
        link, _ = build_curve(self.scenario, source)
        load_weights(link, checkpoint_path(self.scenario, source, self.root), sample_shape)
        trained = _learned_layers(link)
        shared = sorted(set(trained) & set(self.layers))
        for tap in shared:
            try:
                self.layers[tap].set_weights(trained[tap].get_weights())
            except ValueError:
                raise InputError(f"curve {self.curve.name!r}: init_from {name!r}: stage {tap!r} has other hyper-parameters there") from None
        self._say(f"# {self.label}: starting from the trained {', '.join(shared) or 'nothing'} of curve {name!r}")

    def _calibrate(self, train):
        """Let every learned stage keep its statistics of the training samples (see ``StageParams.calibrate``)."""
        from linksim.data import batches

        data = self.scenario.data

        def samples():
            return batches(train, 256, shuffle=False, prefetch=data.prefetch, stored_max=data.stored_max)

        for params in self.curve.stages:
            if params.learned:
                params.calibrate(self.layers[params.tap_name], self.layers, samples)

    def _optimizer_and_step(self, stage, total_steps):
        import keras
        import tensorflow as tf

        rate = stage.learning_rate
        if stage.schedule == "cosine":
            rate = keras.optimizers.schedules.CosineDecay(stage.learning_rate, decay_steps=max(total_steps, 1))
        ema = {"use_ema": stage.ema is not None, "ema_momentum": stage.ema or 0.99}
        optimizer = (keras.optimizers.Adam(learning_rate=rate, **ema) if stage.optimizer == "adam"
                     else keras.optimizers.SGD(learning_rate=rate, momentum=0.9, **ema))
        variables = [v for name in stage.train for v in self.layers[name].trainable_variables]
        optimizer.build(variables)
        loss_fn = stage.loss.build(self._training_run(stage))
        trained = [self.layers[name] for name in stage.train]

        @tf.function
        def step(images, no, snr_db, seed, point_values, head=None):
            with tf.GradientTape() as tape:
                loss = loss_fn(images, no, snr_db, seed, point_values, **({} if head is None else {"head": head}))
                auxiliary = [term for layer in trained for term in layer.losses]  # add_loss terms of this step's calls
                if auxiliary:
                    loss += tf.add_n(auxiliary)
            optimizer.apply_gradients(zip(tape.gradient(loss, variables), variables))
            return loss

        return optimizer, step, variables

    def _training_run(self, stage):
        bridge = stage.channel.build(self.curve) if stage.loss.uses_bridge else None
        return TrainingRun(self.curve, stage, self.link, self.layers, bridge)

    def _head_function(self, stage):
        """``head(images, no, snr_db, seed, point_values) -> {tap: tensor}``: the frozen stages before the first
        trained one, as the stage's forward runs them (same seeds, bridge and modes), under XLA where the
        scenario's execution is ``xla`` and those stages allow it."""
        import tensorflow as tf

        head = self.curve.stages[:stage.head_length(self.curve)]
        run = self._training_run(stage)
        xla = self.scenario.montecarlo.execution == "xla" and all(s.xla_compatible for s in head)

        def forward(images, no, snr_db, seed, point_values):
            taps = run.forward(images, no, snr_db, seed, point_values, until=head[-1].tap_name)
            return {s.tap_name: taps[s.tap_name] for s in head}

        return tf.function(forward, jit_compile=xla)

    def point_values(self, stage, snr_db):
        """The stages' per-point parameters in training: at ``snr_db``, except those the stage's
        bridge fixes (``flip_probability``)."""
        values = self.link.point_values(snr_db)
        overrides = stage.channel.point_overrides() if stage.loss.uses_bridge else {}
        return [overrides.get(s.point_parameter, v) for s, v in zip(self.curve.stages, values)]

    def _epoch(self, train, stage, item, epoch, steps_per_epoch, step_fn, rnd, epochs, head_fn=None):
        """One epoch of ``steps_per_epoch`` steps (fewer in the last epoch of a ``steps`` stage).

        With ``cache_head`` (``head_fn``), the epoch draws as epoch ``epoch mod cache_head`` and
        runs the head only where that epoch's outputs are not stored yet.

        Returns the mean loss and the mean loss of each run of ``WINDOWS_PER_EPOCH``-th of the
        epoch's steps, ``[first step, last step, mean]`` each: the loss curve within an epoch,
        for stages whose epochs are long (a sampler in the loop) or few."""
        import tensorflow as tf

        from linksim.data import batches
        from phy.seeding import stateless_seed

        data = self.scenario.data
        drawn = epoch % stage.cache_head if head_fn is not None else epoch  # the epoch whose batches, SNRs and noise this one uses
        stored = self._heads.setdefault(drawn, []) if head_fn is not None else None
        replayed = bool(stored)
        images = batches(train, stage.batch_size, seed=self.scenario.seed + 7919 * (self.c + 1), epoch=item * 100_003 + drawn,
                         shuffle=data.shuffle, drop_remainder=True, prefetch=data.prefetch, stored_max=data.stored_max).take(steps_per_epoch)
        rng = np.random.default_rng(np.random.SeedSequence(self.scenario.seed, spawn_key=(1, self.c, item, drawn)))
        low, high = (self.point, self.point) if self.point is not None else (stage.snr.low, stage.snr.high) if stage.snr else (0.0, 0.0)
        snrs = rng.uniform(low, high, steps_per_epoch)
        tty = getattr(self.stream, "isatty", lambda: False)()
        start, total = time.perf_counter(), 0.0
        window = max(1, -(-steps_per_epoch // WINDOWS_PER_EPOCH))
        windows, window_total = [], 0.0
        for step, batch in enumerate(images):
            snr = float(snrs[step])
            arguments = (batch, tf.constant(self.link.noise_variance(snr), tf.float32), tf.constant(snr, tf.float32),
                         tf.constant(stateless_seed(self.scenario.seed, 1, self.c, item, drawn, step), tf.int32),
                         tf.constant(self.point_values(stage, snr), tf.float32))
            if stored is None:
                loss = step_fn(*arguments)
            else:
                if step == len(stored):
                    stored.append(head_fn(*arguments))
                loss = step_fn(*arguments, head=stored[step])
            total += float(loss)
            window_total += float(loss)
            if (step + 1) % window == 0 or step + 1 == steps_per_epoch:
                first = step - step % window
                windows.append([first, step, window_total / (step + 1 - first)])
                window_total = 0.0
            if tty and step % 10 == 0:
                self._say(f"\r  {stage.name} epoch {epoch + 1}/{epochs} step {step + 1}/{steps_per_epoch} loss {total / (step + 1):.5f}", end="")
        seconds = time.perf_counter() - start
        mean = total / steps_per_epoch
        rounds = self.curve.training.rounds
        head = "" if head_fn is None else f"  (head of epoch {drawn + 1} {'replayed' if replayed else 'stored'})"
        self._say(f"{chr(13) if tty else ''}# train {self.label}: {stage.name}"
                  f"{f' (round {rnd + 1}/{rounds})' if rounds > 1 else ''} epoch {epoch + 1}/{epochs}  loss {mean:.5f}  "
                  f"{steps_per_epoch * stage.batch_size / seconds:.0f} images/s  {seconds:.1f} s{head}")
        return mean, windows

    def _save(self, holder, optimizer, state):
        os.makedirs(self.directory, exist_ok=True)
        fresh = os.path.join(self.directory, "incoming")
        shutil.rmtree(fresh, ignore_errors=True)
        os.makedirs(fresh)
        holder.save_weights(os.path.join(fresh, "learned.weights.h5"))
        np.savez(os.path.join(fresh, "optimizer.npz"), *[v.numpy() for v in (optimizer.variables if optimizer else [])])
        with open(os.path.join(fresh, "state.json"), "w") as f:
            json.dump(state, f, indent=1)
        _plot_losses(state, os.path.join(fresh, "loss.png"))
        current, previous = os.path.join(self.directory, "current"), os.path.join(self.directory, "previous")
        shutil.rmtree(previous, ignore_errors=True)
        if os.path.isdir(current):
            os.replace(current, previous)
        os.replace(fresh, current)
        shutil.rmtree(previous, ignore_errors=True)

    @staticmethod
    def _load_optimizer(optimizer, variables, folder):
        with np.load(os.path.join(folder, "optimizer.npz"), allow_pickle=False) as saved:
            values = [saved[f"arr_{i}"] for i in range(len(saved.files))]
        if len(values) != len(optimizer.variables):
            raise InputError(f"{folder}/optimizer.npz: does not match this training stage; delete the folder to retrain")
        for variable, value in zip(optimizer.variables, values):
            variable.assign(value)


class CurveWeights:
    """The trained weights of a scenario's curves, for the links that evaluate them.

    Parameters
    ----------
    scenario : linksim.scenario.Scenario
    root : str
        Checkpoint root folder.
    train_missing : bool
        Train (or resume) a missing or unfinished checkpoint; otherwise that is an error.
    stream : file or None
        Where training progress goes.
    """

    def __init__(self, scenario, root="checkpoints", train_missing=False, stream=None):
        self.scenario, self.root, self.train_missing, self.stream = scenario, root, train_missing, stream
        self._loaded_point = {}  # per_point curves: the SNR whose weights the link holds

    def prepare(self, c, link):
        """Put curve ``c``'s trained weights into ``link`` (nothing for a curve without training);
        for ``per_point`` curves every point is trained (or checked) in turn."""
        training = self.scenario.curves[c].training
        if training is None:
            return
        points = [float(p) for p in self.scenario.snr.points()] if training.per_point else [None]
        for point in points:
            if self.train_missing:
                Trainer(self.scenario, c, link, self.root, self.stream, point=point).run()
                self._loaded_point[c] = point
            else:
                self._load(c, link, point)

    def select(self, c, link, snr_db):
        """Make ``link`` hold the weights for ``snr_db`` (a ``per_point`` curve's point)."""
        training = self.scenario.curves[c].training
        if training is not None and training.per_point and self._loaded_point.get(c) != float(snr_db):
            self._load(c, link, float(snr_db))

    def _load(self, c, link, point):
        load_weights(link, checkpoint_path(self.scenario, self.scenario.curves[c], self.root, point), self.scenario.data.sample_shape)
        self._loaded_point[c] = point


def _plot_losses(state, path):
    """The training loss against steps: each window's mean (line) and each epoch's mean (dots at the epoch's end)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 4))
    steps, done = [], 0  # cumulative step at the end of each window, over all stages
    for _stage, _rnd, _epoch, first, last, _mean in state.get("windows", []):
        done += last - first + 1
        steps.append(done)
    if steps:
        ax.plot(steps, [w[5] for w in state["windows"]], "-", linewidth=1, label="window mean")
        ends = [steps[i] for i in range(len(steps)) if i + 1 == len(steps) or state["windows"][i + 1][3] == 0]  # next starts an epoch
        ax.plot(ends, [entry[3] for entry in state["losses"][len(state["losses"]) - len(ends):]], "o", markersize=3, label="epoch mean")
        ax.set_xlabel("training step (all stages)")
        ax.legend()
    else:  # a checkpoint written before windows were kept
        ax.plot(range(1, len(state["losses"]) + 1), [entry[3] for entry in state["losses"]], "o-", markersize=3)
        ax.set_xlabel("epoch (all stages)")
    ax.set_ylabel("training loss")
    ax.set_yscale("log")
    ax.grid(True, alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
