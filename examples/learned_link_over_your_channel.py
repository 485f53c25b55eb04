"""A trained learned link from the Python API, evaluated over your own channel.

The quickstart's codec (its trained weights ship with linksim) is taken out of the scenario as Keras
layers; between them runs a chain of your own: here the same 4-bit quantizer and 16-QAM, but over a
Rayleigh block-fading channel with perfect CSI that the codec never saw in training.

    python examples/learned_link_over_your_channel.py
"""
import tensorflow as tf
from sionna.phy.mapping import Mapper

import linksim
from linksim.phy import BitsToInteger, IntegerToBits, SlicerDemapper, UniformQuantizer, complex_normal, make_constellation


def psnr(images, reconstructions):
    mse = tf.reduce_mean(tf.square(images - tf.clip_by_value(reconstructions, 0.0, 1.0)), axis=[1, 2, 3])
    return float(tf.reduce_mean(10 * tf.math.log(1.0 / mse) / tf.math.log(10.0)))


def main(esno_dbs=(10.0, 20.0, 30.0), seed=3):
    scenario = linksim.load_scenario("quickstart")
    link = scenario.link("learned-16qam")                    # a Sionna Block holding the trained codec
    layers = link.learned_layers()                           # {"latent": ConvEncoder, "reconstruction": ConvDecoder}
    images = scenario.samples("test")[:193]                # the scenario's test patches, [193, 32, 32, 3] in [0, 1]

    quantizer = UniformQuantizer(num_bits=4, minval=0.0, maxval=1.0)
    to_bits, to_integers = IntegerToBits(num_bits=4), BitsToInteger(num_bits=4)
    constellation = make_constellation("qam16")
    mapper, slicer = Mapper(constellation=constellation), SlicerDemapper(constellation=constellation)
    out = {}
    for esno in esno_dbs:
        latent = layers["latent"](images)
        symbols = mapper(to_bits(quantizer(latent)))
        no = 10 ** (-esno / 10)
        h = complex_normal(tf.shape(symbols)[:1], seed=[seed, 1])[:, None]   # one Rayleigh coefficient per image
        y = h * symbols + tf.cast(tf.sqrt(no), tf.complex64) * complex_normal(tf.shape(symbols), seed=[seed, 2])
        equalised = y / h                                                     # perfect CSI
        latent_hat = quantizer.dequantize(to_integers(slicer(equalised)))
        out[esno] = psnr(images, layers["reconstruction"](latent_hat))
        print(f"Rayleigh block fading, Es/N0 {esno:4.1f} dB: PSNR {out[esno]:.2f} dB")
    return out


if __name__ == "__main__":
    main()
