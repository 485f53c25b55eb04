"""Volumes as stacks of axial slices: DiSC-Med's networks are 2D and run slice by slice."""
import tensorflow as tf

__all__ = ["to_slices", "from_slices", "with_neighbours", "coordinates"]


def to_slices(volumes):
    """[batch, D, H, W, C] → [batch·D, H, W, C]."""
    shape = tf.shape(volumes)
    return tf.reshape(volumes, tf.concat([[shape[0] * shape[1]], shape[2:]], 0))


def from_slices(slices, depth: int):
    """[batch·D, H, W, C] → [batch, D, H, W, C]."""
    shape = tf.shape(slices)
    return tf.reshape(slices, tf.concat([[-1, depth], shape[1:]], 0))


def with_neighbours(volumes):
    """Each slice with the slices above and below it on the channel axis (the end slices repeat
    themselves): [batch, D, H, W, C] → [batch, D, H, W, 3C], channels (d − 1, d, d + 1)."""
    above = tf.concat([volumes[:, :1], volumes[:, :-1]], 1)
    below = tf.concat([volumes[:, 1:], volumes[:, -1:]], 1)
    return tf.concat([above, volumes, below], -1)


def coordinates(count, height: int, width: int):
    """Pixel coordinates in [−1, 1] as two channels (row, column): [count, H, W, 2] float32.

    Given to the slice networks so that a small receptive field still knows where it is (left and
    right kidney look alike)."""
    rows = tf.linspace(-1.0, 1.0, height)
    cols = tf.linspace(-1.0, 1.0, width)
    grid = tf.stack(tf.meshgrid(rows, cols, indexing="ij"), -1)  # [H, W, 2]
    return tf.tile(grid[None], [count, 1, 1, 1])
