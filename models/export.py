"""A trained link's learned layers as one Keras 3 model, saved as a ``.keras`` archive.

:class:`LearnedParts` holds the learned stages of a curve by tap name (``"latent"`` for the encoder,
``"reconstruction"`` for the decoder, …). Saved with Keras' own ``model.save`` (configuration and
weights, no code); ``keras.models.load_model(path)`` after ``import linksim`` (which registers linksim's
layers) rebuilds it in safe mode. The archive holds the learned layers only: no channel, quantizer,
mapper or any other stage of the link, so it plugs into a user's own chain.
"""
import keras

__all__ = ["LearnedParts", "export_learned_parts"]


@keras.saving.register_keras_serializable(package="linksim")
class LearnedParts(keras.Model):
    """Learned layers by tap name; ``model({tap: input, ...})`` → ``{tap: output, ...}``.

    Parameters
    ----------
    parts : dict[str, keras.layers.Layer]
        Tap name → layer (built).
    description : str
        Where the layers come from (``<scenario>/<curve>``).

    Input
    -----
    inputs : dict tap → tensor
        The input of each part to run (any subset of the taps).

    Output
    ------
    dict tap → tensor, each part's output
    """

    def __init__(self, parts: dict, description: str = "", **kwargs):
        super().__init__(**kwargs)
        self.parts = dict(parts)
        self.description = str(description)

    def call(self, inputs, training=False):
        return {tap: self.parts[tap](x, training=training) for tap, x in inputs.items()}

    def get_config(self):
        return {"name": self.name, "description": self.description,
                "parts": {tap: keras.saving.serialize_keras_object(layer) for tap, layer in self.parts.items()}}

    @classmethod
    def from_config(cls, config):
        parts = {tap: keras.saving.deserialize_keras_object(layer) for tap, layer in config["parts"].items()}
        return cls(parts, config.get("description", ""), name=config.get("name"))

    def get_build_config(self):
        return {tap: layer.get_build_config() for tap, layer in self.parts.items()}

    def build_from_config(self, config):
        for tap, layer_config in config.items():
            if layer_config is not None and not self.parts[tap].built:  # deserialised parts arrive built already
                self.parts[tap].build_from_config(layer_config)
        self.built = True


def export_learned_parts(parts: dict, path: str, description: str = "") -> str:
    """Save the built layers ``parts`` (tap → layer) as a :class:`LearnedParts` ``.keras`` archive at ``path``."""
    model = LearnedParts(parts, description)
    model.built = True
    model.save(path)
    return path
