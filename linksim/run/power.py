"""The power a link puts on its noise channel, measured: what ``signal_power: measured`` calibrates
on, and the check of a declared ``signal_power`` before a sweep writes anything.

Both run the link up to the input of its first noise channel (the stages before it only).
"""
import numpy as np

from linksim.engine.errors import InputError
from linksim.phy.seeding import stateless_seed

__all__ = ["POWER_TOLERANCE", "calibrate_signal_power", "probe_power", "check_declared_power"]

POWER_TOLERANCE = 0.05  # a declared signal_power may differ from the measured one by this fraction


def _channel_input(link, curve, batch_size, snr_db, seed, inputs=None, chunk=0, max_samples=None):
    """The first noise channel's input for one batch, and the valid rows (or None): [batch, ...], [batch] bool."""
    import tensorflow as tf

    arguments = (batch_size, tf.constant(1.0), tf.constant(snr_db, tf.float32), tf.constant(seed, tf.int32))
    if curve.noise_channels()[0] == 0:  # the source feeds the channel
        ctx, _ = link.begin(*arguments, chunk=tf.constant(chunk, tf.int32), max_samples=max_samples)
        x, valid = (link.source.apply(None, ctx) if inputs is None else inputs), ctx.valid
    else:
        tap = curve.channel_input_taps()[0]
        taps = link(*arguments, tf.constant(link.point_values(snr_db), tf.float32), chunk=tf.constant(chunk, tf.int32),
                    max_samples=max_samples, inputs=inputs, until=tap)
        x, valid = taps[tap], taps.get("valid")
    return np.asarray(x), None if valid is None else np.asarray(valid)


def _powers(x, valid=None) -> np.ndarray:
    """|x|² of every element of the valid rows, flat float64."""
    x = np.abs(np.asarray(x, np.complex128 if np.iscomplexobj(x) else np.float64)) ** 2
    return (x if valid is None else x[valid]).ravel()


def calibrate_signal_power(scenario, curve, link) -> float:
    """Mean channel-input power over the dataset's training split (per real value, or per complex
    symbol), through the curve's fixed stages before its first noise channel; sets it on ``link``."""
    from linksim.catalogue.image_files import batches

    data = scenario.data
    train = data.load("train", scenario.seed)
    snr_db = float(scenario.snr.points()[0])
    total, count = 0.0, 0
    for batch in batches(train, scenario.montecarlo.batch_size, shuffle=False, prefetch=data.prefetch, stored_max=data.stored_max):
        x, _ = _channel_input(link, curve, int(batch.shape[0]), snr_db, [0, 0], inputs=batch)
        powers = _powers(x)
        total, count = total + float(powers.sum()), count + powers.size
    link.signal_power = total / count
    return link.signal_power


def probe_power(scenario, curve_index, link) -> tuple[float, float]:
    """Mean channel-input power of the sweep's first chunk (chunk 0 of the first point, its seed and
    test data), with the weights ``link`` holds, and its standard error."""
    curve = scenario.curves[curve_index]
    mc = scenario.montecarlo
    snr_db = float(scenario.snr.points()[0])
    x, valid = _channel_input(link, curve, mc.batch_size, snr_db, stateless_seed(scenario.seed, curve_index, 0, 0),
                              max_samples=mc.max_samples)
    powers = _powers(x, valid)
    return float(powers.mean()), float(powers.std() / np.sqrt(powers.size))


def check_declared_power(scenario, curve_index, link) -> float | None:
    """The measured power of a curve whose ``signal_power`` is a number (``None`` for the others, and
    for a curve without a noise channel); ``InputError`` if it differs from the declared one by more
    than :data:`POWER_TOLERANCE` plus four standard errors of the measurement (a first chunk of a few
    symbols measures with little precision)."""
    curve = scenario.curves[curve_index]
    if isinstance(curve.signal_power, str) or not curve.noise_channels():
        return None
    measured, error = probe_power(scenario, curve_index, link)
    if abs(measured - curve.signal_power) > POWER_TOLERANCE * curve.signal_power + 4 * error:
        raise InputError(f"curve {curve.name}: signal_power {curve.signal_power:g} is declared, but the mean power of the channel "
                         f"input ('{curve.channel_input_taps()[0]}') is {measured:.4g} ({10 * np.log10(measured / curve.signal_power):+.2f} dB); "
                         "declare the measured power, 'measured' or 'nominal'")
    return measured
