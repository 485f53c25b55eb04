"""Learned parts of the semantic links (Keras layers and losses), one module per system.

Filled by the JCM + SCDM, AMP-SC, VSCC and DiSC-Med milestones; may import ``phy``, never
``linksim``.
"""
