"""Training the learned stages of a curve.

A curve's ``training`` is a schedule of stages (repeated ``rounds`` times); each stage updates
the named learned stages, freezes the others, and minimises its objective (``loss``, a registered
:mod:`linksim.catalogue.objectives` component) on batches of the dataset's training split at a
training SNR drawn per batch. Its bridge (``channel``, :mod:`linksim.catalogue.bridges`) decides
what the non-learned span between the learned stages hands on in training. The ``add_loss`` terms
of the trained layers are added to the objective.

After every epoch the trainer saves to the curve's :class:`~linksim.run.checkpoints.CheckpointStore`,
so an interrupted training resumes from its last finished epoch and ends with the same weights as
an uninterrupted one. Randomness (initial weights, data order, SNRs, noise) depends on (seed,
curve, stage, epoch, step) only. Progress goes to a ``progress`` object given from outside
(:class:`linksim.output.training_log.TrainingLog` on the command line).

:class:`CurveWeights` puts the trained weights of each curve into the links that evaluate them:
it trains missing checkpoints (:meth:`CurveWeights.train`), loads finished ones and, for
``per_point`` curves, swaps in the weights of the SNR point being run.
"""
import os
import time

import numpy as np

from linksim.catalogue.image_files import batches
from linksim.catalogue.objectives import TrainingRun
from linksim.engine.errors import InputError
from linksim.phy.seeding import stateless_seed
from linksim.run.checkpoints import CheckpointStore, checkpoint_path, config_hash, shipped_path, trained_checkpoint
from linksim.run.power import calibrate_signal_power

__all__ = ["Trainer", "train_curves", "train_job", "CurveWeights", "load_weights", "learned_layers", "initial_weights_seed", "seeded_build",
           "job_dependencies"]

WINDOWS_PER_EPOCH = 10  # loss windows kept per epoch (state['windows'], loss.png)


def initial_weights_seed(scenario, curve_index: int, replicate: int = 0) -> int:
    """The seed Keras' initializers draw from for curve ``curve_index``'s replicate ``replicate``."""
    keys = (2, curve_index) + ((replicate,) if replicate else ())
    return int(np.random.SeedSequence(scenario.seed, spawn_key=keys).generate_state(1)[0])


def seeded_build(scenario, curve_index: int, replicate: int = 0, training: bool = False):
    """:func:`linksim.scenario.build_curve` after seeding Keras with :func:`initial_weights_seed`: layers that make
    their sublayers (and draw their initializers' seeds) when constructed get the same weights in every process."""
    import keras

    from linksim.scenario import build_curve

    keras.utils.set_random_seed(initial_weights_seed(scenario, curve_index, replicate))
    return build_curve(scenario, scenario.curves[curve_index], training=training)


def learned_layers(link) -> dict:
    """``{tap: Keras layer}`` of the link's learned stages."""
    return {s.tap: s.block for s in link.stages if s.learned}


def build_layers(link, sample_shape):
    """Keras layers build on their first call: run the link once on one all-zero sample, nearly
    noiseless (N0 = 1e-6), where receivers whose work grows with the noise (a reverse-diffusion
    sampler starting at the channel's noise level) do the least."""
    import tensorflow as tf

    link(1, tf.constant(1e-6), tf.constant(0.0), tf.constant([0, 0]), tf.zeros([len(link.stages)]),
         inputs=tf.zeros((1,) + tuple(sample_shape)))


def learned_parts_model(layers: dict):
    """A Keras model that tracks ``layers`` (sorted by tap), so their weights save and load together."""
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


def load_weights(link, directory):
    """Load a finished checkpoint into the link's learned layers (built on the samples the link
    carries, ``link.sample_shape``); ``InputError`` if absent."""
    store = CheckpointStore(directory)
    state = store.state()
    if state is None or not state.get("complete"):
        raise InputError(f"{directory}: no finished training checkpoint; run `linksim train` (or `linksim run`) first")
    layers = learned_layers(link)
    build_layers(link, link.sample_shape)
    store.load_weights(learned_parts_model(layers))
    return state


class Trainer:
    """Trains one curve's learned stages, resuming from its checkpoint.

    Parameters
    ----------
    scenario : linksim.scenario.Scenario
    curve_index : int
    link : linksim.engine.link.Link
        The curve's link (built by :func:`linksim.scenario.build_curve`); its learned layers are
        trained in place.
    root : str
        Checkpoint root folder.
    progress : object or None
        Receives ``line(text)`` (a finished line: an epoch, a resume), ``step(text)`` (the step in
        progress, worth showing on a terminal only) and ``saved(state, folder)`` after each save;
        ``None`` for silence. :class:`linksim.output.training_log.TrainingLog` is the command line's.
    point : float or None
        For ``per_point`` training: the SNR point (dB) to train at.
    replicate : int
        Which independently seeded copy of the curve (``training.replicates``); replicate 0 draws
        exactly what an unreplicated curve draws.
    """

    def __init__(self, scenario, curve_index, link, root="checkpoints", progress=None, point=None, replicate: int = 0):
        self.scenario, self.curve_index, self.link = scenario, curve_index, link
        self.curve = scenario.curves[curve_index]
        self.point, self.replicate = point, replicate
        self.root = root
        self.store = CheckpointStore(checkpoint_path(scenario, self.curve, root, point, replicate))
        self.progress = progress
        self.layers = learned_layers(link)
        self.label = self.curve.replicate_names()[replicate] + ("" if point is None else f" @ {point:g} dB")

    def _keys(self, *keys) -> tuple:
        """Seed keys of this curve, with the replicate's index appended for replicates other than 0."""
        return keys + ((self.replicate,) if self.replicate else ())
        self._heads = {}  # drawn epoch → the head's taps of each step, for the ``cache_head`` stage running

    def _line(self, text):
        if self.progress is not None:
            self.progress.line(text)

    def _step(self, text):
        if self.progress is not None:
            self.progress.step(text)

    def _schedule(self):
        return [(r, s) for r in range(self.curve.training.rounds) for s in self.curve.training.stages]

    def run(self, max_epochs=None) -> dict:
        """Train what the checkpoint has not finished; returns the final state.

        ``max_epochs`` stops after that many epochs of this call (to test resumption).
        """
        import keras

        train = self.scenario.data.load("train", self.scenario.seed)
        # Initial weights depend on (seed, curve, replicate) only: seed Keras' initializers, then build.
        keras.utils.set_random_seed(initial_weights_seed(self.scenario, self.curve_index, self.replicate))
        build_layers(self.link, train.shape[1:])
        parts = learned_parts_model(self.layers)
        state = self._start(parts)
        if state["complete"]:
            return state
        if not self._schedule():  # init_from only: the copied weights are the result
            state["complete"] = True
            self._calibrate(train)
            self._save(parts, None, state)
            return state
        return self._train_schedule(train, parts, state, max_epochs)

    def _start(self, parts) -> dict:
        """The state to continue from: the checkpoint's (its weights loaded), or a fresh one (from
        ``init_from``'s weights where given)."""
        saved = self.store.state()
        directory = self.store.directory
        if saved is not None:
            self.store.load_weights(parts)
            if saved["complete"]:
                self._line(f"# {self.label}: trained weights reused from {directory}")
            else:
                self._line(f"# {self.label}: resuming training from {directory} (stage {saved['item'] + 1}, epoch {saved['epoch']})")
            return saved
        if self.curve.training.init_from is not None:
            self._initialise_from(self.curve.training.init_from)
        state = {"config_hash": config_hash(self.scenario, self.curve, self.replicate), "item": 0, "epoch": 0, "losses": [], "windows": [],
                 "complete": False}
        if self.curve.signal_power == "measured":
            state["signal_power"] = self.link.signal_power  # the calibration the training noise refers to
        return state

    def _train_schedule(self, train, parts, state, max_epochs) -> dict:
        """Every training stage of the schedule from where ``state`` stands, saving after each epoch."""
        epochs_run = 0
        for item, (rnd, stage) in enumerate(self._schedule()):
            if item < state["item"]:
                continue
            steps_per_epoch = len(train) // stage.batch_size
            if steps_per_epoch == 0:
                raise InputError(f"training stage {stage.name!r}: batch_size {stage.batch_size} exceeds the {len(train)} training samples")
            epochs = stage.epochs or -(-stage.steps // steps_per_epoch)
            total_steps = stage.steps or epochs * steps_per_epoch
            if _remeasures_power(self.curve):
                state["signal_power"] = self._measure_power(stage)
            optimizer, step_fn, variables = self._optimizer_and_step(stage, total_steps)
            head_fn = self._head_function(stage) if stage.cache_head else None
            self._heads = {}  # each stage stores its own heads
            if item == state["item"] and state["epoch"] > 0:
                self.store.load_optimizer(optimizer)
            for epoch in range(state["epoch"] if item == state["item"] else 0, epochs):
                if max_epochs is not None and epochs_run >= max_epochs:
                    return state
                num_steps = min(steps_per_epoch, total_steps - epoch * steps_per_epoch)
                loss, windows, seconds = self._epoch(train, stage, item, epoch, num_steps, step_fn, rnd, epochs, head_fn)
                epochs_run += 1
                last = epoch + 1 == epochs
                state = {**state, "item": item + 1 if last else item, "epoch": 0 if last else epoch + 1,
                         "losses": state["losses"] + [[stage.name, rnd, epoch, loss]],
                         "windows": state.get("windows", []) + [[stage.name, rnd, epoch, *w] for w in windows],
                         "epoch_seconds": state.get("epoch_seconds", []) + [round(seconds, 3)]}  # for time estimates
                state["complete"] = last and item + 1 == len(self._schedule())
                if last and stage.ema is not None:
                    optimizer.finalize_variable_values(variables)  # the stage ends on the moving average of its weights
                if state["complete"]:
                    self._calibrate(train)
                self._save(parts, optimizer, state)
        return state

    def _measure_power(self, stage) -> float:
        """The channel-input power over the training split with the weights of now (before ``stage``)."""
        previous = self.link.signal_power
        power = calibrate_signal_power(self.scenario, self.curve, self.link)
        if power != previous:
            self._line(f"# {self.label}: signal power measured again before stage {stage.name!r}: {power:.6g} (the noise refers to it)")
        return power

    def _initialise_from(self, name):
        """Copy the trained weights of curve ``name`` (its replicate of the same index, or its only one)
        into the layers with the same taps: its checkpoint under the root, else the one shipped with linksim."""
        from linksim.scenario import build_curve

        source = self.scenario.curve_named(name)
        link, _ = build_curve(self.scenario, source, training=True)
        replicate = self.replicate if self.replicate < source.replicates else 0
        load_weights(link, trained_checkpoint(self.scenario, source, self.root, replicate=replicate))
        trained = learned_layers(link)
        shared = sorted(set(trained) & set(self.layers))
        for tap in shared:
            try:
                self.layers[tap].set_weights(trained[tap].get_weights())
            except ValueError:
                raise InputError(f"curve {self.curve.name!r}: init_from {name!r}: stage {tap!r} has other hyper-parameters there") from None
        self._line(f"# {self.label}: starting from the trained {', '.join(shared) or 'nothing'} of curve {name!r}")

    def _calibrate(self, train):
        """Let every learned stage keep its statistics of the training samples (see ``StageParams.calibrate``)."""
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

        data = self.scenario.data
        drawn = epoch % stage.cache_head if head_fn is not None else epoch  # the epoch whose batches, SNRs and noise this one uses
        stored = self._heads.setdefault(drawn, []) if head_fn is not None else None
        replayed = bool(stored)
        images = batches(train, stage.batch_size, seed=self.scenario.seed + 7919 * (self.curve_index + 1) + 104_729 * self.replicate,
                         epoch=item * 100_003 + drawn,
                         shuffle=data.shuffle, drop_remainder=True, prefetch=data.prefetch, stored_max=data.stored_max).take(steps_per_epoch)
        rng = np.random.default_rng(np.random.SeedSequence(self.scenario.seed, spawn_key=self._keys(1, self.curve_index, item, drawn)))
        low, high = (self.point, self.point) if self.point is not None else (stage.snr.low, stage.snr.high) if stage.snr else (0.0, 0.0)
        snrs = rng.uniform(low, high, steps_per_epoch)
        start, total = time.perf_counter(), 0.0
        window = max(1, -(-steps_per_epoch // WINDOWS_PER_EPOCH))
        windows, window_total = [], 0.0
        for step, batch in enumerate(images):
            snr = float(snrs[step])
            arguments = (batch, tf.constant(self.link.noise_variance(snr), tf.float32), tf.constant(snr, tf.float32),
                         tf.constant(stateless_seed(self.scenario.seed, *self._keys(1, self.curve_index, item, drawn, step)), tf.int32),
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
            if step % 10 == 0:
                self._step(f"  {stage.name} epoch {epoch + 1}/{epochs} step {step + 1}/{steps_per_epoch} loss {total / (step + 1):.5f}")
        seconds = time.perf_counter() - start
        mean = total / steps_per_epoch
        rounds = self.curve.training.rounds
        head = "" if head_fn is None else f"  (head of epoch {drawn + 1} {'replayed' if replayed else 'stored'})"
        left = sum(schedule_epochs(self.curve, len(train))[item:]) - epoch - 1
        left *= seconds
        self._line(f"# train {self.label}: {stage.name}"
                  f"{f' (round {rnd + 1}/{rounds})' if rounds > 1 else ''} epoch {epoch + 1}/{epochs}  loss {mean:.5f}  "
                  f"{steps_per_epoch * stage.batch_size / seconds:.0f} images/s  {seconds:.1f} s{head}"
                  f"{f'  (about {left / 60:.0f} min left)' if left else ''}")
        return mean, windows, seconds

    def _save(self, parts, optimizer, state):
        folder = self.store.save(parts, optimizer, state)
        if self.progress is not None:
            self.progress.saved(state, folder)


def schedule_epochs(curve, train_size: int) -> list[int]:
    """Epochs of each item of ``curve``'s training schedule (rounds × stages), ``train_size`` training samples."""
    return [stage.epochs or -(-stage.steps // max(1, train_size // stage.batch_size))
            for _ in range(curve.training.rounds) for stage in curve.training.stages]


def _remeasures_power(curve) -> bool:
    """Whether a curve's measured power is taken again before each training stage: a ``measured``
    curve with learned stages before its channel. These train on their own objectives (the scenario
    checks it), so their power is fixed while the link trains through the channel but changes between
    training stages."""
    channel = curve.noise_channels()[0] if curve.signal_power == "measured" else 0
    return any(s.learned for s in curve.stages[:channel])


def with_sources(scenario, curve_indices) -> list[int]:
    """The chosen curves and every curve they start from (``init_from``, transitively), in scenario order."""
    by_name = {curve.name: index for index, curve in enumerate(scenario.curves)}
    chosen, pending = set(), list(curve_indices)
    while pending:
        index = pending.pop()
        if index not in chosen:
            chosen.add(index)
            training = scenario.curves[index].training
            if training is not None and training.init_from is not None:
                pending.append(by_name[training.init_from])
    return sorted(chosen)


def _jobs(scenario, curve_indices, root, retrain) -> list[tuple[int, int, float | None, str | None]]:
    """``(curve, replicate, point, shipped folder)`` of every training job of the chosen curves and their
    sources, in order; ``shipped`` where linksim's own weights stand in for a checkpoint missing under ``root``."""
    jobs = []
    for curve_index in with_sources(scenario, curve_indices):
        curve = scenario.curves[curve_index]
        if curve.training is None:
            continue
        for replicate in range(curve.replicates):
            for point in [float(p) for p in scenario.snr.points()] if curve.training.per_point else [None]:
                shipped = None if retrain else shipped_path(scenario, curve, point, replicate)
                if shipped and CheckpointStore(checkpoint_path(scenario, curve, root, point, replicate)).state() is not None:
                    shipped = None
                jobs.append((curve_index, replicate, point, shipped))
    return jobs


def job_dependencies(scenario, jobs) -> dict:
    """``{(curve, replicate, point): [(curve, replicate, point), ...]}``: the jobs among ``jobs`` (from
    :func:`_jobs`) that each job starts from (``init_from``: the source's replicate of the same index,
    or its only one). Shipped sources are no dependency (their weights exist)."""
    trained = {(c, r, p) for c, r, p, shipped in jobs if not shipped}
    out = {}
    for curve_index, replicate, point, _ in jobs:
        curve = scenario.curves[curve_index]
        source = curve.training.init_from
        deps = []
        if source is not None:
            source_index = next(i for i, c in enumerate(scenario.curves) if c.name == source)
            key = (source_index, replicate if replicate < scenario.curves[source_index].replicates else 0, None)
            deps = [key] if key in trained else []
        out[(curve_index, replicate, point)] = deps
    return out


def _plan(scenario, jobs, root) -> list[str]:
    """One line per job that will train: its label, epochs, time estimate and checkpoint folder."""
    lines, train_size = [], None
    for curve_index, replicate, point, shipped in jobs:
        curve = scenario.curves[curve_index]
        state = CheckpointStore(checkpoint_path(scenario, curve, root, point, replicate)).state()
        if shipped or (state is not None and state.get("complete")):
            continue
        label = curve.replicate_names()[replicate] + ("" if point is None else f" @ {point:g} dB")
        epochs = [f"{stage.name} {stage.epochs} epochs" if stage.epochs else f"{stage.name} {stage.steps} steps"
                  for stage in curve.training.stages]
        rounds = f" × {curve.training.rounds} rounds" if curve.training.rounds > 1 else ""
        done = f", resuming at epoch {state['epoch'] + 1} of stage {state['item'] + 1}" if state else ""
        timed = _epoch_seconds(scenario, curve, root, point, replicate, state)
        if timed and curve.training.stages:
            if train_size is None:
                train_size = scenario.data.train_size(scenario.seed)
            left = sum(schedule_epochs(curve, train_size)) - (len(state["losses"]) if state else 0)
            estimate = f", about {left * timed / 60:.0f} min (its replicates' or its own measured epochs)"
        else:
            estimate = ""
        lines.append(f"#   {label}: {', '.join(epochs) or 'weights copied from ' + curve.training.init_from}{rounds}{done}"
                     f"{estimate} → {checkpoint_path(scenario, curve, root, point, replicate)}")
    return lines


def _epoch_seconds(scenario, curve, root, point, replicate, state) -> float | None:
    """Mean measured seconds per epoch of this job (its own checkpoint's, else another replicate's of the same curve and
    point under ``root``), or ``None`` where none was measured yet."""
    states = [state] + [CheckpointStore(checkpoint_path(scenario, curve, root, point, other)).state()
                        for other in range(curve.replicates) if other != replicate]
    seconds = next((s["epoch_seconds"] for s in states if s and s.get("epoch_seconds")), None)
    return sum(seconds) / len(seconds) if seconds else None


def train_curves(scenario, curve_indices, root="checkpoints", progress=None, retrain=False) -> None:
    """Train (or resume, or reuse) the checkpoints of the chosen curves that have a ``training``
    section and of the curves they start from, every replicate and every SNR point of a
    ``per_point`` curve in turn; ``progress`` as for :class:`Trainer`. A curve whose trained weights
    ship with linksim (:func:`shipped_path`) and has no checkpoint under ``root`` is not trained,
    unless ``retrain``. Before anything trains, ``progress`` gets the plan: every job that will train,
    its epochs and its checkpoint folder; each epoch's line then says how long the job has left.
    :func:`linksim.run.ray_training.train_on_ray` runs the same jobs as Ray tasks."""
    jobs = _jobs(scenario, curve_indices, root, retrain)
    announce_plan(scenario, jobs, root, progress)
    powers = {}  # curve -> its measured signal power
    for curve_index, replicate, point, shipped in jobs:
        if shipped:
            announce_shipped(scenario.curves[curve_index], replicate, shipped, progress)
            continue
        train_job(scenario, curve_index, replicate, point, root, progress, powers)


def announce_plan(scenario, jobs, root, progress) -> None:
    """Give ``progress`` the plan of ``jobs`` (:func:`_plan`), if anything will train."""
    plan = _plan(scenario, jobs, root)
    if progress is not None and plan:
        progress.line(f"# training {len(plan)} job(s) (where no epoch was measured yet, each epoch's line estimates the time left):")
        for line in plan:
            progress.line(line)


def announce_shipped(curve, replicate, shipped, progress) -> None:
    if progress is not None:
        progress.line(f"# {curve.replicate_names()[replicate]}: trained weights shipped with linksim "
                      f"({os.path.relpath(shipped)}); --retrain trains from scratch")


def train_job(scenario, curve_index, replicate, point, root="checkpoints", progress=None, powers=None) -> dict:
    """Train (resume, reuse) one job: curve ``curve_index``'s replicate ``replicate`` at SNR ``point``
    (``per_point`` curves; else ``None``). Its layers are built afresh, seeded by (seed, curve,
    replicate) alone, so a job trains the same weights whichever jobs ran before it in the process
    (the points of a ``per_point`` curve are independent codecs). A ``signal_power: measured`` curve
    measures the power with its replicate 0's initial weights, once per curve where ``powers``
    (curve → power) is given. Returns the checkpoint's final state."""
    curve = scenario.curves[curve_index]
    if curve.signal_power == "measured" and (powers is None or curve_index not in powers):
        reference, _ = seeded_build(scenario, curve_index, 0, training=True)
        power = _measured_power(scenario, curve, reference, progress)
        if powers is not None:
            powers[curve_index] = power
    link, _ = seeded_build(scenario, curve_index, replicate, training=True)
    if curve.signal_power == "measured":
        link.signal_power = powers[curve_index] if powers is not None else power
    return Trainer(scenario, curve_index, link, root, progress, point=point, replicate=replicate).run()


def _measured_power(scenario, curve, link, progress) -> float:
    power = calibrate_signal_power(scenario, curve, link)
    if progress is not None:
        refers = ("measured again before each training stage and with the trained weights for the sweep" if _remeasures_power(curve)
                  else "the noise refers to it")
        progress.line(f"# {curve.name}: signal power measured over the training split: {power:.6g} ({refers})")
    return power


class CurveWeights:
    """Puts the trained weights of a scenario's curves into the links that evaluate them.

    Parameters
    ----------
    scenario : linksim.scenario.Scenario
    root : str
        Checkpoint root folder; a curve's checkpoint must be finished (:func:`train_curves`).
    shipped : bool
        Where ``root`` has no checkpoint of a curve, load the weights shipped with linksim for it.
    """

    def __init__(self, scenario, root="checkpoints", shipped=True):
        self.scenario, self.root, self.shipped = scenario, root, shipped
        self._loaded_point = {}  # per_point curves: the SNR whose weights the link holds

    def load(self, curve_index, link, replicate: int = 0):
        """Put the trained weights of curve ``curve_index`` (its replicate ``replicate``) into ``link``
        (nothing for a curve without training); for ``per_point`` curves every point's checkpoint is
        loaded (checked) in turn."""
        training = self.scenario.curves[curve_index].training
        if training is None:
            return
        for point in [float(p) for p in self.scenario.snr.points()] if training.per_point else [None]:
            self._load(curve_index, link, point, replicate)

    def select(self, curve_index, link, snr_db, replicate: int = 0):
        """Make ``link`` hold the weights for ``snr_db`` (a ``per_point`` curve's point)."""
        training = self.scenario.curves[curve_index].training
        if training is not None and training.per_point and self._loaded_point.get((curve_index, replicate)) != float(snr_db):
            self._load(curve_index, link, float(snr_db), replicate)

    def _load(self, curve_index, link, point, replicate):
        curve = self.scenario.curves[curve_index]
        load_weights(link, trained_checkpoint(self.scenario, curve, self.root, point, replicate, self.shipped))
        self._loaded_point[(curve_index, replicate)] = point
