"""Classical image coding for the separate-coding baselines: a JPEG bitstream with a CRC packed into
a fixed bit budget (:mod:`.jpeg`) and its ``image_encoder`` / ``image_decoder`` stages
(:mod:`.stages`). Imports the engine and the catalogue. Another classical codec goes here.
Importing this package registers its stages.
"""
from linksim.domains.imaging import stages  # noqa: F401

VOCABULARY = ("jpeg",)
