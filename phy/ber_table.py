"""BER-to-SNR tables: closed form or measured, saved to HDF5, interpolated both ways.

A table holds one row per SNR point with its source: ``closed_form`` (exact value from
:func:`linksim.phy.ber_theory.ber_awgn`, no counts, no interval) or ``measured`` (Monte Carlo counts and
a Clopper–Pearson interval). A measured sweep stops measuring at the first point with zero
errors; the points after it are filled from the closed form and labelled so, never presented
as measured.
"""
import time
from dataclasses import dataclass, field

import h5py
import numpy as np

from linksim.phy.ber_theory import ber_awgn
from linksim.phy.constellations import modulation_info
from linksim.phy.intervals import clopper_pearson
from linksim.phy.seeding import stateless_seed
from linksim.phy.snr import noise_variance

__all__ = ["BerTable", "CSV_HEADER"]

CSV_HEADER = "snr_db,ber,ci_low,ci_high,bit_errors,bits,source"
SOURCES = ("closed_form", "measured")


@dataclass
class BerTable:
    """BER versus SNR for one modulation over AWGN with hard decisions.

    Attributes
    ----------
    modulation, convention : str
        Modulation name and SNR convention (``esno`` or ``ebno``) of ``snr_db``.
    snr_db, ber, ci_low, ci_high : [P] float64
        Intervals are ``nan`` for closed-form rows.
    bit_errors, bits : [P] int64
        Zero for closed-form rows.
    source : [P] str
        ``closed_form`` or ``measured``.
    confidence : float
        Confidence level of the intervals.
    """

    modulation: str
    convention: str
    snr_db: np.ndarray
    ber: np.ndarray
    ci_low: np.ndarray
    ci_high: np.ndarray
    bit_errors: np.ndarray
    bits: np.ndarray
    source: np.ndarray
    confidence: float = 0.95
    metadata: dict = field(default_factory=dict)

    def __post_init__(self):
        modulation_info(self.modulation)
        if self.convention not in ("esno", "ebno"):
            raise ValueError(f"convention must be 'esno' or 'ebno', got {self.convention!r}")
        self.snr_db = np.asarray(self.snr_db, dtype=np.float64)
        if self.snr_db.ndim != 1 or len(self.snr_db) == 0 or np.any(np.diff(self.snr_db) <= 0):
            raise ValueError("snr_db must be a non-empty, strictly increasing 1-D array")
        for name in ("ber", "ci_low", "ci_high"):
            setattr(self, name, np.asarray(getattr(self, name), dtype=np.float64))
        self.bit_errors = np.asarray(self.bit_errors, dtype=np.int64)
        self.bits = np.asarray(self.bits, dtype=np.int64)
        self.source = np.asarray(self.source, dtype=str)
        if set(self.source) - set(SOURCES):
            raise ValueError(f"source entries must be in {SOURCES}")

    # ------------------------------------------------------------------ construction
    @classmethod
    def closed_form(cls, modulation: str, convention: str, snr_db) -> "BerTable":
        """Exact closed-form table (:func:`linksim.phy.ber_theory.ber_awgn`)."""
        snr_db = np.asarray(snr_db, dtype=np.float64)
        n = len(snr_db)
        nan = np.full(n, np.nan)
        return cls(
            modulation, convention, snr_db, ber_awgn(modulation, snr_db, convention), nan, nan.copy(),
            np.zeros(n, np.int64), np.zeros(n, np.int64), np.full(n, "closed_form"),
        )

    @classmethod
    def measure(
        cls,
        modulation: str,
        convention: str,
        snr_db,
        *,
        target_errors: int = 1000,
        max_bits: int = 10**8,
        seed: int = 0,
        confidence: float = 0.95,
        num_symbols: int = 2**20,
        counter=None,
        progress=None,
    ) -> "BerTable":
        """Monte Carlo table.

        Each point runs batches until ``target_errors`` bit errors or ``max_bits`` bits. Batch
        ``c`` of point ``p`` uses ``stateless_seed(seed, p, c)``, so a table repeats exactly.
        ``progress(row_dict)`` is called after each point.

        Parameters
        ----------
        counter : callable ``(no, seed) -> (bit_errors, num_bits)``, optional
            Any mapper/channel/demapper chain, e.g. a Sionna ``Mapper → AWGN → Demapper``
            wrapped in a function; ``no`` is N0 per symbol for ``modulation``'s unit-energy
            constellation and ``seed`` a ``[2]`` int32 stateless seed. Default: the fast
            :class:`linksim.phy.fast_ber.HardDecisionBERCounter` with ``num_symbols`` per batch.
        """
        if target_errors < 1 or max_bits < 1:
            raise ValueError("target_errors and max_bits must be positive")
        snr_db = np.asarray(snr_db, dtype=np.float64)
        info = modulation_info(modulation)
        table = cls.closed_form(modulation, convention, snr_db)
        table.confidence = confidence
        if counter is None:
            from linksim.phy.fast_ber import HardDecisionBERCounter  # imports TensorFlow

            counter = HardDecisionBERCounter(modulation, num_symbols=num_symbols)
        for p, snr in enumerate(snr_db):
            no = noise_variance(snr, convention, bits_per_symbol=info.num_bits_per_symbol)
            errors, bits, chunk, start = 0, 0, 0, time.perf_counter()
            while errors < target_errors and bits < max_bits:
                e, n = counter(no, stateless_seed(seed, p, chunk))
                errors, bits, chunk = errors + int(e), bits + n, chunk + 1
            table._set_measured(p, errors, bits)
            if progress is not None:
                progress(dict(table.row(p), seconds=time.perf_counter() - start))
            if errors == 0:
                break  # below what Monte Carlo can see here: the rest stays closed form
        return table

    def _set_measured(self, p, errors, bits):
        low, high = clopper_pearson(errors, bits, self.confidence)
        self.ber[p] = errors / bits
        self.ci_low[p], self.ci_high[p] = low, high
        self.bit_errors[p], self.bits[p], self.source[p] = errors, bits, "measured"

    # ------------------------------------------------------------------ queries
    def row(self, p: int) -> dict:
        return {
            "snr_db": float(self.snr_db[p]), "ber": float(self.ber[p]), "ci_low": float(self.ci_low[p]),
            "ci_high": float(self.ci_high[p]), "bit_errors": int(self.bit_errors[p]), "bits": int(self.bits[p]),
            "source": str(self.source[p]),
        }

    def _usable(self):
        keep = self.ber > 0
        if keep.sum() < 2:
            raise ValueError("interpolation needs at least two points with BER > 0")
        return self.snr_db[keep], np.log(self.ber[keep])

    def ber_at(self, snr_db):
        """BER at any SNR inside the table: linear interpolation of log(BER) in dB.

        Raises ``ValueError`` outside the table's range (no extrapolation).
        """
        x, logy = self._usable()
        snr_db = np.asarray(snr_db, dtype=np.float64)
        if np.any(snr_db < x[0] - 1e-12) or np.any(snr_db > x[-1] + 1e-12):
            raise ValueError(f"SNR outside the table's range [{x[0]}, {x[-1]}] dB")
        return np.exp(np.interp(snr_db, x, logy))

    def snr_for(self, ber):
        """SNR [dB] at which the interpolated BER equals ``ber`` (the inverse of :meth:`ber_at`).

        The table's BER must fall strictly with SNR over its positive entries.
        """
        x, logy = self._usable()
        if np.any(np.diff(logy) >= 0):
            raise ValueError("BER must decrease strictly with SNR to be inverted")
        target = np.log(np.asarray(ber, dtype=np.float64))
        if np.any(target > logy[0] + 1e-12) or np.any(target < logy[-1] - 1e-12):
            raise ValueError(f"BER outside the table's range [{np.exp(logy[-1]):.3g}, {np.exp(logy[0]):.3g}]")
        return np.interp(target, logy[::-1], x[::-1])

    # ------------------------------------------------------------------ I/O
    def to_csv(self) -> str:
        """CSV text with header :data:`CSV_HEADER`."""
        lines = [CSV_HEADER]
        for p in range(len(self.snr_db)):
            r = self.row(p)
            lines.append(
                f"{r['snr_db']:g},{r['ber']:.6e},{r['ci_low']:.6e},{r['ci_high']:.6e},"
                f"{r['bit_errors']},{r['bits']},{r['source']}"
            )
        return "\n".join(lines) + "\n"

    def save(self, path, metadata: dict | None = None):
        """Write the table to an HDF5 file (one group ``ber_table``), atomically."""
        import os
        import tempfile

        directory = os.path.dirname(os.path.abspath(path))
        fd, tmp = tempfile.mkstemp(suffix=".h5.tmp", dir=directory)
        os.close(fd)
        try:
            with h5py.File(tmp, "w") as f:
                g = f.create_group("ber_table")
                g.attrs["modulation"] = self.modulation
                g.attrs["convention"] = self.convention
                g.attrs["confidence"] = self.confidence
                for key, value in {**self.metadata, **(metadata or {})}.items():
                    g.attrs[f"meta_{key}"] = value
                for name in ("snr_db", "ber", "ci_low", "ci_high", "bit_errors", "bits"):
                    g.create_dataset(name, data=getattr(self, name))
                g.create_dataset("source", data=np.array(self.source, dtype="S"))
            os.replace(tmp, path)
        except BaseException:
            os.unlink(tmp)
            raise

    @classmethod
    def load(cls, path) -> "BerTable":
        """Read a table written by :meth:`save`."""
        with h5py.File(path, "r") as f:
            if "ber_table" not in f:
                raise ValueError(f"{path}: no 'ber_table' group; not a linksim BER table")
            g = f["ber_table"]
            data = {n: g[n][()] for n in ("snr_db", "ber", "ci_low", "ci_high", "bit_errors", "bits")}
            meta = {k[5:]: v for k, v in g.attrs.items() if k.startswith("meta_")}
            return cls(
                str(g.attrs["modulation"]), str(g.attrs["convention"]), source=g["source"][()].astype(str),
                confidence=float(g.attrs["confidence"]), metadata=meta, **data,
            )
