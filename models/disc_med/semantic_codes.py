"""DiSC-Med's semantic representation and its discrete channel.

What is sent per voxel (after the strided compression) is, in the ``label`` representation, two
real values: the segmentation label as ``label / (C − 1)`` in [0, 1] and the edge bit in {0, 1};
in the ``one_hot`` representation, C + 1: the one-hot class indicators and the edge bit. The paper
writes the segmentation both as one D×H×W map (the label form, the paper's (D/2, H/4, W/4) size
per semantic volume) and as "multi-channel semantic logits or ... one-hot" interpolated "independently
to each channel" (III-B1, III-C1). Interpolating label ids numerically invents intermediate classes at
organ borders (between labels 2 and 6 lie 3, 4 and 5); interpolating one-hot channels gives class
weights instead, at (C + 1) / 2 times the channel uses per voxel. The representation is told by the
last axis: 2 values are the label form, C + 1 the one-hot form; the edge is always the last channel.
What the receiver hands the reconstruction is a condition of C + 1 channels: the class
probabilities (one-hot when decided) and the edge probability.
"""
import tensorflow as tf

from linksim.phy.channels import draw_labels, symmetric_transition

__all__ = ["encode_semantics", "is_one_hot", "decide_semantics", "label_ids", "semantic_errors", "soft_dice_loss"]


def encode_semantics(labels, edges, num_classes: int, one_hot: bool = False):
    """Labels [..] int and edges [..] {0, 1} → [.., 2] float32 (label / (C − 1), edge), or with
    ``one_hot`` [.., C + 1] float32 (class indicators, edge)."""
    edges = tf.cast(edges, tf.float32)
    if one_hot:
        return tf.concat([tf.one_hot(tf.cast(labels, tf.int32), num_classes, dtype=tf.float32), edges[..., None]], -1)
    return tf.stack([tf.cast(labels, tf.float32) / (num_classes - 1), edges], -1)


def is_one_hot(semantics) -> bool:
    """Whether semantic volumes [.., 2] or [.., C + 1] are in the one-hot representation."""
    return semantics.shape[-1] != 2


def label_ids(semantics, num_classes: int):
    """The decided labels: the nearest label of the first channel ([.., 2]), or the largest class
    channel ([.., C + 1]) → [..] int32 in [0, C)."""
    if is_one_hot(semantics):
        return tf.cast(tf.argmax(semantics[..., :num_classes], -1), tf.int32)
    scaled = tf.round(semantics[..., 0] * (num_classes - 1))
    return tf.cast(tf.clip_by_value(scaled, 0, num_classes - 1), tf.int32)


def decide_semantics(semantics, num_classes: int):
    """Hard decisions without a denoiser: the decided label one-hot and edge > 1/2.

    Input [.., 2] or [.., C + 1] float32 → output [.., C + 1] float32."""
    one_hot = tf.one_hot(label_ids(semantics, num_classes), num_classes, dtype=tf.float32)
    return tf.concat([one_hot, tf.cast(semantics[..., -1:] > 0.5, tf.float32)], -1)


def semantic_errors(semantics, p, num_classes: int, seed, transition=None):
    """The paper's discrete channel: labels through a transition matrix (phy's label channel), edge bits
    through a BSC(p).

    Input
    -----
    semantics : [.., 2] or [.., C + 1] float32 (either representation)
    p : scalar float32 — the edge flip probability, and the label error probability of the
        symmetric T when ``transition`` is None
    transition : [C, C] float32 or None — row k: P(received j | sent k)
    seed : [2] int32 (stateless)

    Output
    ------
    : the shape and representation of ``semantics``
    """
    label_seed, edge_seed = tf.unstack(tf.random.split(seed, 2))
    labels = label_ids(semantics, num_classes)
    table = symmetric_transition(num_classes, p) if transition is None else tf.convert_to_tensor(transition, tf.float32)
    received = draw_labels(labels, table, label_seed)  # [..] int32
    flips = tf.random.stateless_uniform(tf.shape(labels), edge_seed) < p
    edges = tf.cast(tf.math.logical_xor(semantics[..., -1] > 0.5, flips), tf.int32)
    return encode_semantics(received, edges, num_classes, one_hot=is_one_hot(semantics))


def soft_dice_loss(logits, labels, num_classes: int, smooth: float = 1.0):
    """1 − the mean soft Dice over the foreground classes present in ``labels`` (nnU-Net's Dice term,
    which keeps small organs from drowning in the background of a cross-entropy).

    Input: logits [.., C] float32, labels [..] int32. Output: scalar float32.
    """
    probabilities = tf.reshape(tf.nn.softmax(logits), [-1, num_classes])[:, 1:]  # [voxels, C − 1]
    truth = tf.reshape(tf.one_hot(labels, num_classes), [-1, num_classes])[:, 1:]
    overlap = tf.reduce_sum(probabilities * truth, 0)
    dice = (2.0 * overlap + smooth) / (tf.reduce_sum(probabilities, 0) + tf.reduce_sum(truth, 0) + smooth)  # [C − 1]
    present = tf.cast(tf.reduce_sum(truth, 0) > 0, tf.float32)
    return 1.0 - tf.reduce_sum(dice * present) / tf.maximum(tf.reduce_sum(present), 1.0)
