"""The compression and interpolation around DiSC-Med's channel.

The transmitter keeps every ``strides``-th sample of a volume along D, H and W (the paper: every
2nd slice, every 4th pixel in H and W: (D, H, W) → (D/2, H/4, W/4)); the receiver restores the
full grid by trilinear interpolation.

The paper does not say where the interpolation puts the kept samples. Here a kept sample sits
exactly where it was taken (index s·i of the full grid), interpolation is linear between kept
neighbours along each axis in turn (trilinear = three separable linear passes), and the last
s − 1 positions after the final kept sample continue the last interval linearly. So the kept
samples come back unchanged and a field that is linear in (d, h, w) is restored exactly, which a
half-pixel-offset, edge-clamped resize (PyTorch ``align_corners=False``) would not do.
"""
import tensorflow as tf

__all__ = ["strided_compress", "trilinear_restore"]


def strided_compress(volumes, strides=(2, 4, 4)):
    """Keep every ``strides``-th sample along D, H, W.

    Input
    -----
    volumes : [batch, D, H, W, ...]

    Output
    ------
    : [batch, ⌈D/s_d⌉, ⌈H/s_h⌉, ⌈W/s_w⌉, ...]
    """
    sd, sh, sw = strides
    return volumes[:, ::sd, ::sh, ::sw]


def _linear_along(x, axis: int, length: int, stride: int):
    """Linear interpolation of ``x`` along ``axis`` onto ``length`` positions, sample i at s·i."""
    n = x.shape[axis]
    if n == 1:
        return tf.repeat(x, length, axis=axis)
    position = tf.range(length, dtype=tf.float32) / stride          # [length], in kept-sample units
    left = tf.minimum(tf.cast(tf.floor(position), tf.int32), n - 2)  # the last interval extends past its end
    weight = position - tf.cast(left, tf.float32)                    # in [0, 1], or beyond 1 at the far edge
    shape = [1] * len(x.shape)
    shape[axis] = length
    weight = tf.reshape(weight, shape)
    return tf.gather(x, left, axis=axis) * (1.0 - weight) + tf.gather(x, left + 1, axis=axis) * weight


def trilinear_restore(compressed, shape, strides=(2, 4, 4)):
    """Trilinear interpolation of kept samples back onto the full (D, H, W) grid.

    Input
    -----
    compressed : [batch, d, h, w, ...] float32, from :func:`strided_compress`
    shape : (D, H, W)

    Output
    ------
    : [batch, D, H, W, ...] float32
    """
    x = tf.convert_to_tensor(compressed, tf.float32)
    for axis, (length, stride) in enumerate(zip(shape, strides), start=1):
        x = _linear_along(x, axis, int(length), int(stride))
    return x
