"""DiSC-Med: diffusion-based semantic communication of CT volumes (learned parts and their resampling)."""
