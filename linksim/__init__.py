"""linksim: end-to-end digital semantic communication link simulator on Sionna.

The engine: scenarios (YAML → validated config), links (chains of Sionna blocks / Keras
layers with taps), Monte Carlo sweeps, HDF5 results, tables, plots and the ``linksim`` CLI.
The physical layer lives in the sibling package ``phy``.
"""

__version__ = "0.1.0"
