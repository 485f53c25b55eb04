"""A small convolutional image codec: the learned parts of linksim's quickstart link.

``ConvEncoder`` maps ``[batch, H, W, 3]`` images in ``[0, 1]`` to a flat latent in ``[0, 1]``
(sigmoid, ready for a uniform quantizer); ``ConvDecoder`` maps such a latent back to an image.
Two stride-2 stages shrink each side by 4, so ``H·W·3`` pixels become ``(H/4)·(W/4)·C`` latent
values.
"""
import keras

from linksim.models.checks import check_positive_ints

__all__ = ["ConvEncoder", "ConvDecoder"]


@keras.saving.register_keras_serializable(package="linksim")
class ConvEncoder(keras.layers.Layer):
    """Image → latent.

    Parameters
    ----------
    latent_channels : int
        Channels C of the ``(H/4) × (W/4)`` latent map.
    filters : int
        Width of the hidden convolutions.

    Input
    -----
    images : [batch, H, W, 3], float32, H and W multiples of 4

    Output
    ------
    : [batch, (H/4)·(W/4)·latent_channels], float32 in [0, 1]
    """

    def __init__(self, latent_channels: int = 8, filters: int = 64, **kwargs):
        super().__init__(**kwargs)
        check_positive_ints(latent_channels=latent_channels, filters=filters)
        self.latent_channels, self.filters = int(latent_channels), int(filters)

    def build(self, input_shape):
        conv = keras.layers.Conv2D
        self.convs = [
            conv(self.filters, 5, strides=2, padding="same", activation="relu"),
            conv(self.filters, 5, strides=2, padding="same", activation="relu"),
            conv(self.filters, 3, padding="same", activation="relu"),
            conv(self.latent_channels, 3, padding="same", activation="sigmoid"),
        ]
        shape = input_shape
        for layer in self.convs:
            layer.build(shape)
            shape = layer.compute_output_shape(shape)

    def call(self, images, training=False):
        x = images
        for layer in self.convs:
            x = layer(x)
        h, w, c = x.shape[1:]
        flat = h * w * c if None not in (h, w, c) else -1  # static where known: functional models see the latent size
        return keras.ops.reshape(x, (-1, flat) if flat != -1 else (keras.ops.shape(x)[0], -1))  # [batch, h·w·C]

    def get_config(self):
        return {**super().get_config(), "latent_channels": self.latent_channels, "filters": self.filters}


@keras.saving.register_keras_serializable(package="linksim")
class ConvDecoder(keras.layers.Layer):
    """Latent → image.

    Parameters
    ----------
    image_size : int
        Side H = W of the output images (multiple of 4).
    latent_channels, filters : int
        As in :class:`ConvEncoder`.

    Input
    -----
    latent : [batch, (H/4)·(W/4)·latent_channels], float32

    Output
    ------
    : [batch, H, W, 3], float32 in [0, 1]
    """

    def __init__(self, image_size: int = 32, latent_channels: int = 8, filters: int = 64, **kwargs):
        super().__init__(**kwargs)
        check_positive_ints(image_size=image_size, latent_channels=latent_channels, filters=filters)
        if image_size % 4:
            raise ValueError(f"image_size must be a multiple of 4, got {image_size}")
        self.image_size, self.latent_channels, self.filters = int(image_size), int(latent_channels), int(filters)

    def build(self, input_shape):
        side = self.image_size // 4
        self.convs = [
            keras.layers.Conv2D(self.filters, 3, padding="same", activation="relu"),
            keras.layers.Conv2DTranspose(self.filters, 5, strides=2, padding="same", activation="relu"),
            keras.layers.Conv2DTranspose(self.filters, 5, strides=2, padding="same", activation="relu"),
            keras.layers.Conv2D(3, 3, padding="same", activation="sigmoid"),
        ]
        shape = (input_shape[0], side, side, self.latent_channels)
        for layer in self.convs:
            layer.build(shape)
            shape = layer.compute_output_shape(shape)

    def call(self, latent, training=False):
        side = self.image_size // 4
        x = keras.ops.reshape(latent, (-1, side, side, self.latent_channels))  # [batch, h, w, C]
        for layer in self.convs:
            x = layer(x)
        return x

    def get_config(self):
        return {**super().get_config(), "image_size": self.image_size, "latent_channels": self.latent_channels, "filters": self.filters}
