"""AMP-SC (Gong et al.): residual conv encoder/decoder with squeeze-and-excitation, and IRSNet.

Blocks (Section III-D): an RCB is two convolutions plus a shortcut convolution,
``s' = F1(s) + W_s s`` (eq. 22); a T-RCB the same with transposed convolutions; an SE block
rescales channels by ``sigmoid(W2 relu(W1 avgpool(s)))`` (eq. 23).

Encoder and decoder follow Table III: ``downsamplings + extraction + 1`` RCBs (T-RCBs) and
``downsamplings + extraction`` SE blocks; CIFAR-10: 2 + 3 + 1 = 6 and 5, the high-resolution
variant 4 + 3 + 1 = 8 and 7. As in the authors' public code, the encoder ends in
``tanh · 2^b/2`` — here shifted to span the quantizer's integer levels ``[−½, 2^b − ½]`` — so
that rounding gives the b-bit integers the AD converter takes, and the decoder reads those
integer-valued features directly.

IRSNet (Fig. 4): a U-Net of nine RCBs and two T-RCBs on the received feature map. Five RCBs
go down (two of them with stride 2), one projects, and two T-RCBs (stride 2) and three RCBs go
back up, with skip connections at both resolutions. The last RCB's output is added to the
input (global residual), so an untrained IRSNet starts close to the identity — a choice of
this implementation; the paper does not say.

``style="public"`` follows the authors' public code (gmzSZU/AMP-SC) where the paper is silent:
an RCB is a k×k convolution (the stride), GDN, PReLU, a 1×1 convolution and GDN, plus the input
(through a 1×1 convolution where the width or the stride changes), then PReLU, without biases;
IRSNet widens the latent C to 2C / 4C / 8C with 3×3 blocks and additive skips and returns its last
block's output (no global residual). The default ``"symmetric"`` style is the one above (two k×k
convolutions, ReLU, biases), which the CPU-scale scenarios were trained with.

All layers take and return flat features ``[batch, h·w·C]`` between stages, like the rest of
linksim's latent stages; ``(h, w) = (H, W) / 2^downsamplings`` for images of ``image_size``
``(H, W)`` (an int: square). The layers are fully convolutional: weights built for one image size
serve any other (train on crops, test on whole images); only the flattening depends on it.
"""
import keras
import tensorflow as tf

from linksim.models.checks import check_positive_ints

__all__ = ["STYLES", "GDN", "ResidualBlock", "SqueezeExcitation", "AMPEncoder", "AMPDecoder", "IRSNet"]

STYLES = ("symmetric", "public")


def _lower_bound(x, bound: float):
    """``max(x, bound)`` whose gradient still passes where it would raise ``x`` (so a parameter at its
    bound can leave it), as Ballé's GDN reparameterization does."""

    @tf.custom_gradient
    def bounded(value):
        def grad(dy):
            return tf.where(tf.logical_or(value >= bound, dy < 0), dy, tf.zeros_like(dy))

        return tf.maximum(value, bound), grad

    return bounded(tf.convert_to_tensor(x))


@keras.saving.register_keras_serializable(package="linksim")
class GDN(keras.layers.Layer):
    """Generalized divisive normalization over channels (Ballé et al. 2016):
    ``y_i = x_i / sqrt(β_i + Σ_j γ_ji x_j²)``, with β ≥ 1e-6 and γ ≥ 0 kept by the square
    reparameterization (β = b² − ε, γ = g² − ε, ε = 2^−36), γ starting at 0.1·I.

    Input / output: ``[batch, h, w, C]`` float32.
    """

    BETA_MIN, GAMMA_INIT, OFFSET = 1e-6, 0.1, 2.0**-18

    def build(self, input_shape):
        channels = input_shape[-1]
        pedestal = self.OFFSET**2
        self.beta_root = self.add_weight(shape=(channels,), initializer=keras.initializers.Constant((1 + pedestal) ** 0.5), name="beta_root")
        gamma = self.GAMMA_INIT * tf.eye(channels) + pedestal
        self.gamma_root = self.add_weight(shape=(channels, channels), initializer=keras.initializers.Constant(tf.sqrt(gamma).numpy()),
                                          name="gamma_root")

    def compute_output_shape(self, input_shape):
        return input_shape

    def call(self, x):
        pedestal = self.OFFSET**2
        beta = _lower_bound(self.beta_root, (self.BETA_MIN + pedestal) ** 0.5) ** 2 - pedestal
        gamma = _lower_bound(self.gamma_root, self.OFFSET) ** 2 - pedestal  # [C_in, C_out]
        return x * tf.math.rsqrt(tf.tensordot(tf.square(x), gamma, axes=[[3], [0]]) + beta)


@keras.saving.register_keras_serializable(package="linksim")
class ResidualBlock(keras.layers.Layer):
    """RCB (``transposed=False``) or T-RCB: two (transposed) convolutions plus a shortcut.

    Parameters
    ----------
    filters, kernel_size, strides : int
    transposed : bool
    activation : str or None
        Applied to the sum (``None`` for a linear output block; ``"prelu"`` a learned slope).
    style : "symmetric" | "public"
        ``symmetric``: k×k convolution with ReLU, k×k convolution, 1×1 shortcut convolution, biases.
        ``public`` (the authors' code): k×k convolution, GDN, PReLU, 1×1 convolution, GDN, identity
        shortcut unless the width or stride changes (then a 1×1 convolution), no biases; one PReLU
        slope serves the inside and a ``"prelu"`` output.
    """

    def __init__(self, filters: int, kernel_size: int = 3, strides: int = 1, transposed: bool = False, activation="relu",
                 style: str = "symmetric", **kwargs):
        super().__init__(**kwargs)
        check_positive_ints(filters=filters, kernel_size=kernel_size, strides=strides)
        if style not in STYLES:
            raise ValueError(f"style must be one of {STYLES}, got {style!r}")
        if activation == "prelu" and style != "public":
            raise ValueError("activation 'prelu' is the public style's (its block holds the slope)")
        self.filters, self.kernel_size, self.strides = int(filters), int(kernel_size), int(strides)
        self.transposed, self.activation, self.style = bool(transposed), activation, style

    def build(self, input_shape):
        conv = keras.layers.Conv2DTranspose if self.transposed else keras.layers.Conv2D
        if self.style == "symmetric":
            self.conv1 = conv(self.filters, self.kernel_size, strides=self.strides, padding="same", activation="relu")
            self.conv2 = conv(self.filters, self.kernel_size, padding="same")
            self.shortcut = conv(self.filters, 1, strides=self.strides, padding="same")
            self.inner = []
        else:
            self.conv1 = conv(self.filters, self.kernel_size, strides=self.strides, padding="same", use_bias=False)
            self.conv2 = conv(self.filters, 1, padding="same", use_bias=False)
            reshaped = input_shape[-1] != self.filters or self.strides != 1
            self.shortcut = conv(self.filters, 1, strides=self.strides, padding="same", use_bias=False) if reshaped else None
            self.gdn1, self.gdn2, self.prelu = GDN(), GDN(), keras.layers.PReLU(shared_axes=[1, 2, 3])
            self.inner = [self.gdn1, self.prelu]
        self.conv1.build(input_shape)
        middle = self.conv1.compute_output_shape(input_shape)
        for layer in self.inner + ([self.gdn2] if self.style == "public" else []):
            layer.build(middle)
        self.conv2.build(middle)
        if self.shortcut is not None:
            self.shortcut.build(input_shape)

    def compute_output_shape(self, input_shape):
        return self.conv2.compute_output_shape(self.conv1.compute_output_shape(input_shape))

    def call(self, x):
        if self.style == "symmetric":
            y = self.conv2(self.conv1(x)) + self.shortcut(x)
        else:
            y = self.gdn2(self.conv2(self.prelu(self.gdn1(self.conv1(x))))) + (x if self.shortcut is None else self.shortcut(x))
        if self.activation == "prelu":
            return self.prelu(y)
        return keras.activations.get(self.activation)(y) if self.activation else y

    def get_config(self):
        return {**super().get_config(), "filters": self.filters, "kernel_size": self.kernel_size, "strides": self.strides,
                "transposed": self.transposed, "activation": self.activation, "style": self.style}


@keras.saving.register_keras_serializable(package="linksim")
class SqueezeExcitation(keras.layers.Layer):
    """Channel attention: ``s · sigmoid(W2 relu(W1 mean_hw(s)))`` with a bottleneck of ``ratio``."""

    def __init__(self, ratio: int = 2, **kwargs):
        super().__init__(**kwargs)
        check_positive_ints(ratio=ratio)
        self.ratio = int(ratio)

    def build(self, input_shape):
        channels = input_shape[-1]
        self.squeeze = keras.layers.Dense(max(channels // self.ratio, 1), activation="relu")
        self.excite = keras.layers.Dense(channels, activation="sigmoid")
        self.squeeze.build((None, channels))
        self.excite.build((None, max(channels // self.ratio, 1)))

    def compute_output_shape(self, input_shape):
        return input_shape

    def call(self, x):
        weights = self.excite(self.squeeze(tf.reduce_mean(x, axis=[1, 2])))  # [batch, C]
        return x * weights[:, None, None, :]

    def get_config(self):
        return {**super().get_config(), "ratio": self.ratio}


class _LatentGeometry(keras.layers.Layer):
    """Shared hyper-parameters and the latent map's shape."""

    def __init__(self, image_size=32, latent_channels=8, filters=64, kernel_size=3, downsamplings=2, extraction=3, style="symmetric",
                 **kwargs):
        super().__init__(**kwargs)
        if style not in STYLES:
            raise ValueError(f"style must be one of {STYLES}, got {style!r}")
        self.style = style
        height, width = (image_size, image_size) if isinstance(image_size, (int, float)) else tuple(image_size)
        check_positive_ints(image_height=height, image_width=width, latent_channels=latent_channels, filters=filters,
                            kernel_size=kernel_size, downsamplings=downsamplings)
        if int(extraction) != extraction or extraction < 0:
            raise ValueError(f"extraction must be a non-negative integer, got {extraction!r}")
        if height % 2**downsamplings or width % 2**downsamplings:
            raise ValueError(f"image_size must be a multiple of 2^downsamplings = {2**downsamplings}, got {height}×{width}")
        self.image_size = (int(height), int(width))
        self.latent_channels, self.filters = int(latent_channels), int(filters)
        self.kernel_size, self.downsamplings, self.extraction = int(kernel_size), int(downsamplings), int(extraction)
        self.latent_shape = (self.image_size[0] // 2**self.downsamplings, self.image_size[1] // 2**self.downsamplings)  # (h, w)

    def _build_chain(self, layers, shape):
        for layer in layers:
            layer.build(shape)
            shape = layer.compute_output_shape(shape)
        return shape

    @property
    def num_features(self) -> int:
        """n = h·w·C real features per image."""
        return self.latent_shape[0] * self.latent_shape[1] * self.latent_channels

    def _latent_map(self, features):
        """``[batch, n]`` → ``[batch, h, w, C]``."""
        return tf.reshape(features, [-1, *self.latent_shape, self.latent_channels])

    def _flat(self, latent):
        """``[batch, h, w, C]`` → ``[batch, n]``."""
        return tf.reshape(latent, [-1, self.num_features])

    def get_config(self):
        return {**super().get_config(), "image_size": list(self.image_size), "latent_channels": self.latent_channels, "filters": self.filters,
                "kernel_size": self.kernel_size, "downsamplings": self.downsamplings, "extraction": self.extraction, "style": self.style}

    def _block(self, filters, strides=1, transposed=False, activation="relu", kernel_size=None):
        """An RCB / T-RCB of this layer's style; in the public style every ReLU output is a PReLU."""
        if self.style == "public" and activation == "relu":
            activation = "prelu"
        return ResidualBlock(filters, kernel_size or self.kernel_size, strides=strides, transposed=transposed, activation=activation,
                             style=self.style)


@keras.saving.register_keras_serializable(package="linksim")
class AMPEncoder(_LatentGeometry):
    """Image → continuous features in ``[−½, 2^num_bits − ½]`` (rounding gives b-bit integers).

    Parameters
    ----------
    image_size : int or (int, int)
        Side, or (height, width), of the images.
    latent_channels : int
        C of the ``h × w`` latent map; n = h·w·C real symbols per image.
    filters, kernel_size : int
    downsamplings, extraction : int
        Stride-2 blocks and stride-1 (deep extraction) blocks; see the module docstring.
    num_bits : int
        b of the AD converter the features feed.

    Input
    -----
    images : [batch, H, W, 3], float32 in [0, 1]

    Output
    ------
    : [batch, n], float32
    """

    def __init__(self, num_bits: int = 4, **kwargs):
        super().__init__(**kwargs)
        check_positive_ints(num_bits=num_bits)
        self.num_bits = int(num_bits)

    def build(self, input_shape):
        f = self.filters
        self.chain = []
        for _ in range(self.downsamplings):
            self.chain += [self._block(f, strides=2), SqueezeExcitation()]
        for _ in range(self.extraction):
            self.chain += [self._block(f), SqueezeExcitation()]
        self.chain.append(self._block(self.latent_channels, activation="prelu" if self.style == "public" else None))
        self._build_chain(self.chain, input_shape)

    def call(self, images, training=False):
        x = images
        for layer in self.chain:
            x = layer(x)
        levels = 2.0**self.num_bits
        x = tf.tanh(x) * (levels / 2) + (levels - 1) / 2  # [batch, h, w, C] in [−½, 2^b − ½]
        return self._flat(x)

    def get_config(self):
        return {**super().get_config(), "num_bits": self.num_bits}


@keras.saving.register_keras_serializable(package="linksim")
class AMPDecoder(_LatentGeometry):
    """Received (restored) features → image, mirroring :class:`AMPEncoder` with T-RCBs.

    Input
    -----
    features : [batch, n], float32

    Output
    ------
    : [batch, H, W, 3], float32 in [0, 1]
    """

    def build(self, input_shape):
        f = self.filters
        self.chain = [self._block(f, transposed=True)]
        for _ in range(self.extraction):
            self.chain += [SqueezeExcitation(), self._block(f, transposed=True)]
        for _ in range(self.downsamplings - 1):
            self.chain += [SqueezeExcitation(), self._block(f, strides=2, transposed=True)]
        self.chain += [SqueezeExcitation(), self._block(3, strides=2, transposed=True, activation="sigmoid")]
        self._build_chain(self.chain, (input_shape[0], *self.latent_shape, self.latent_channels))

    def call(self, features, training=False):
        x = self._latent_map(features)  # [batch, h, w, C]
        for layer in self.chain:
            x = layer(x)
        return x


@keras.saving.register_keras_serializable(package="linksim")
class IRSNet(_LatentGeometry):
    """Information restoration U-Net (9 RCBs, 2 T-RCBs) on the received features.

    The latent map's height and width must be multiples of 4. ``symmetric`` style: widths
    ``filters`` / ``2·filters``, k×k kernels, skips concatenated, global residual (output = input +
    correction). ``public`` style (the authors' code): widths 2C / 4C / 8C of the latent C, 3×3
    kernels (``filters`` and ``kernel_size`` do not apply), additive skips, no global residual.

    Input
    -----
    features : [batch, n], float32

    Output
    ------
    : [batch, n], float32 — restored features
    """

    def build(self, input_shape):
        if self.latent_shape[0] % 4 or self.latent_shape[1] % 4:
            raise ValueError(f"IRSNet needs a latent map whose height and width are multiples of 4, got "
                             f"{self.latent_shape[0]}×{self.latent_shape[1]}")
        c = self.latent_channels
        if self.style == "public":
            def block(filters, kernel_size=3, **kw):
                return self._block(filters, kernel_size=kernel_size, **kw)

            self.down = [block(2 * c), block(4 * c, strides=2), block(4 * c), block(8 * c, strides=2), block(8 * c)]
            self.project = block(8 * c, kernel_size=1)
            self.up = [block(8 * c), block(4 * c, strides=2, transposed=True), block(4 * c), block(2 * c, strides=2, transposed=True), block(c)]
            shape = self._build_chain(self.down + [self.project] + self.up[:2], (input_shape[0], *self.latent_shape, c))
            self._build_chain(self.up[2:], shape)
            return
        f = self.filters
        block = self._block
        self.down = [block(f), block(f, strides=2), block(f), block(2 * f, strides=2), block(2 * f)]
        self.project = block(2 * f)
        self.up = [block(f, strides=2, transposed=True), block(f), block(f, strides=2, transposed=True), block(f), block(c, activation=None)]
        shape = self._build_chain(self.down + [self.project], (input_shape[0], *self.latent_shape, c))
        shape = self._build_chain(self.up[:1], shape)
        shape = self._build_chain(self.up[1:3], tuple(shape[:-1]) + (2 * f,))
        self._build_chain(self.up[3:], tuple(shape[:-1]) + (2 * f,))

    def call(self, features, training=False):
        x0 = self._latent_map(features)  # [batch, h, w, C]
        if self.style == "public":
            f1 = self.down[0](x0)  # 2C, full resolution
            f2 = self.down[2](self.down[1](f1))  # 4C, 1/2
            f3 = self.down[4](self.down[3](f2))  # 8C, 1/4
            x = self.up[1](self.up[0](self.project(f3) + f3))  # 4C, 1/2
            x = self.up[3](self.up[2](x + f2))  # 2C, full
            x = self.up[4](x + f1)  # C
            return self._flat(x)
        a = self.down[0](x0)  # full resolution
        b = self.down[2](self.down[1](a))  # 1/2
        x = self.project(self.down[4](self.down[3](b)))  # 1/4
        x = self.up[1](tf.concat([self.up[0](x), b], -1))  # 1/2, with the skip
        x = self.up[4](self.up[3](tf.concat([self.up[2](x), a], -1)))  # full, with the skip
        return self._flat(x0 + x)
