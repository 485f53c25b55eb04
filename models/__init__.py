"""Learned parts of the semantic links (Keras layers and losses), one module per system; imported as
``linksim.models``.

Importing this package registers every layer with Keras (package ``linksim``), so that
``keras.models.load_model`` can rebuild an exported link (:mod:`.export`). May import ``linksim.phy``, never
the rest of ``linksim``.
"""

from linksim.models.attention import AttentionBlock
from linksim.models.conv import ConvEncoder, ConvDecoder
from linksim.models.jcm import (
    GumbelQAM,
    QAMEncoder,
    SmallJCMEncoder,
    SmallJCMDecoder,
    JCMResNetEncoder,
    JCMResNetDecoder,
)
from linksim.models.scdm import ScoreUNet, SCDMDenoiser, HistogramPosteriorMean
from linksim.models.amp_sc import STYLES, GDN, ResidualBlock, SqueezeExcitation, AMPEncoder, AMPDecoder, IRSNet
from linksim.models.vscc import (
    ResnetBlock,
    VSCCEncoder,
    VSCCDecoder,
    vscc_kl,
    vae_kl,
    variance_as_sent,
    std_from_received,
    LOG_VARIANCE_RANGE,
    VARIANCE_FORMS,
)
from linksim.models.diffusion import VESchedule, pc_sample, CORRECTOR_STEPS
from linksim.models.export import LearnedParts, export_learned_parts
from linksim.models.disc_med.film import ChannelEmbedding, TimestepEmbedding, FiLM
from linksim.models.disc_med.unet import ConditionalUNet
from linksim.models.disc_med.autoencoders import CTEncoder, CTDecoder
from linksim.models.disc_med.denoiser import SemanticDenoiser
from linksim.models.disc_med.segmenter import SliceSegmenter
from linksim.models.disc_med.reconstruction import DDPMReconstructor

__all__ = [
    "AttentionBlock",
    "ConvEncoder",
    "ConvDecoder",
    "GumbelQAM",
    "QAMEncoder",
    "SmallJCMEncoder",
    "SmallJCMDecoder",
    "JCMResNetEncoder",
    "JCMResNetDecoder",
    "ScoreUNet",
    "SCDMDenoiser",
    "HistogramPosteriorMean",
    "STYLES",
    "GDN",
    "ResidualBlock",
    "SqueezeExcitation",
    "AMPEncoder",
    "AMPDecoder",
    "IRSNet",
    "ResnetBlock",
    "VSCCEncoder",
    "VSCCDecoder",
    "vscc_kl",
    "vae_kl",
    "variance_as_sent",
    "std_from_received",
    "LOG_VARIANCE_RANGE",
    "VARIANCE_FORMS",
    "VESchedule",
    "pc_sample",
    "CORRECTOR_STEPS",
    "LearnedParts",
    "export_learned_parts",
    "ChannelEmbedding",
    "TimestepEmbedding",
    "FiLM",
    "ConditionalUNet",
    "CTEncoder",
    "CTDecoder",
    "SemanticDenoiser",
    "SliceSegmenter",
    "DDPMReconstructor",
]
