"""Forward error correction from Sionna: the 5G NR LDPC and Polar codes, applied block by block.

A row of ``m·k`` information bits is cut into ``m`` blocks of ``k`` bits, each encoded into ``n``
coded bits (Sionna's 38.212 rate matching: shortening, puncturing, repetition); the decoder takes
the ``m·n`` channel LLRs of the row (``log p(b=1)/p(b=0)``, Sionna's convention) and returns the
``m·k`` hard information bits.

The blocks are Sionna's ``LDPC5GEncoder`` / ``LDPC5GDecoder`` (belief propagation) and
``Polar5GEncoder`` / ``Polar5GDecoder`` (uplink: CRC-11 or CRC-6 inside the ``k`` bits' code,
CRC-aided list decoding); for LDPC, ``implementation="fast"`` decodes with
:class:`linksim.phy.ldpc_decoding.QCLDPC5GDecoder` instead (same code, other schedules and
check-node rules, early termination). The Polar decoder is Sionna's ``hybSCL``: successive
cancellation first, and Sionna's NumPy SCL decoder (list 8) for the blocks whose CRC then fails.
Sionna's pure-TensorFlow SCL unrolls the whole decoding tree into the graph, which took more than
10 minutes to build on a 2-core CPU at n = 256; the hybrid decoder builds in seconds and keeps the
list decoder's CRC-aided choice wherever SC alone is wrong.
"""
from sionna.phy import Block

from linksim.phy.code_limits import CODES, code_error

__all__ = ["CODES", "code_error", "BlockEncoder", "BlockDecoder"]

POLAR_LIST_SIZE = 8  # not fixed by 38.212; the list size of the 3GPP reference curves


def _sionna_encoder(code: str, k: int, n: int):
    if code == "ldpc":
        from sionna.phy.fec.ldpc import LDPC5GEncoder

        return LDPC5GEncoder(k, n)
    if code == "polar":
        from sionna.phy.fec.polar import Polar5GEncoder

        return Polar5GEncoder(k, n)
    raise ValueError(f"code must be one of {', '.join(CODES)}, got {code!r}")


def _row_length(x, block_in: int, block_out: int) -> int:
    """Static length of an output row (m·block_out) where x's row length is static, else -1."""
    return -1 if x.shape[-1] is None else x.shape[-1] // block_in * block_out


def _blocks_of(x, size: int, what: str):
    """``x`` [batch, m·size] as [batch·m, size]; a clear error when the row length is known (always,
    when a graph or XLA traces it with static shapes) and not a multiple of ``size``."""
    import tensorflow as tf

    if x.shape.rank != 2:
        raise ValueError(f"expected [batch, m·{size}] {what}, got shape {x.shape}")
    if x.shape[-1] is not None and x.shape[-1] % size:
        raise ValueError(f"a row of {x.shape[-1]} {what} is not a multiple of the block size {size}")
    return tf.reshape(x, [-1, size])  # [batch·m, size]


class BlockEncoder(Block):
    """Encode every ``k``-bit block of a row (a Sionna ``Block``).

    Parameters
    ----------
    code : "ldpc" | "polar"
    k, n : int
        Information and coded bits per block (Sionna's 5G limits, :func:`code_error`).
    implementation : "sionna" | "fast"
        LDPC only: Sionna's ``LDPC5GEncoder`` or :class:`linksim.phy.ldpc_encoding.QCLDPC5GEncoder`
        (the same codewords bit for bit, computed on the quasi-cyclic structure). ``encoder`` is
        Sionna's either way: it defines the code for the decoders.
    precision : None | "single" | "double"
        Of the output, as every Sionna block.

    Input
    -----
    bits : [batch, m·k], float in {0, 1}

    Output
    ------
    : [batch, m·n], float (``precision``) — coded bits
    """

    def __init__(self, code: str, k: int, n: int, *, implementation: str = "sionna", precision=None, **kwargs):
        super().__init__(precision=precision, **kwargs)
        if implementation not in ("sionna", "fast") or (implementation == "fast" and code != "ldpc"):
            raise ValueError(f"implementation must be 'sionna', or 'fast' for LDPC codes, got {implementation!r} for {code!r}")
        self.code, self.k, self.n = code, int(k), int(n)
        self.encoder = _sionna_encoder(code, self.k, self.n)
        self._encode = self.encoder
        if implementation == "fast":
            from linksim.phy.ldpc_encoding import QCLDPC5GEncoder

            self._encode = QCLDPC5GEncoder(self.encoder)

    def call(self, bits):
        import tensorflow as tf

        bits = tf.convert_to_tensor(bits)
        batch = tf.shape(bits)[0]
        blocks = tf.cast(_blocks_of(bits, self.k, "bits"), tf.float32)  # [batch·m, k]
        return tf.cast(tf.reshape(self._encode(blocks), [batch, _row_length(bits, self.k, self.n)]), self.rdtype)  # [batch, m·n]


class BlockDecoder(Block):
    """Decode every ``n``-LLR block of a row with a decoder for ``encoder``'s code: belief propagation
    (LDPC) or hybrid SC/SCL with list size 8 (Polar). A Sionna ``Block``.

    Parameters
    ----------
    encoder : BlockEncoder
    iterations : int
        Belief-propagation iterations (LDPC only; Sionna's default 20); the most with ``early_stop``.
    implementation : "sionna" | "fast"
        LDPC only: Sionna's ``LDPC5GDecoder`` or :class:`linksim.phy.ldpc_decoding.QCLDPC5GDecoder`.
    rule, schedule : str
        LDPC check-node rule and schedule (:data:`linksim.phy.ldpc_decoding.CHECK_NODE_RULES`,
        :data:`~linksim.phy.ldpc_decoding.SCHEDULES`); Sionna's decoder has ``boxplus-phi``,
        ``minsum`` and ``offset-minsum`` (offset 0.5), and ``layered`` only outside XLA.
    scale, offset : float
        Of ``normalized-minsum`` and ``offset-minsum`` (``fast``).
    early_stop : bool
        Stop each codeword at a zero syndrome (``fast``).
    precision : None | "single" | "double"
        Of the output.

    Input
    -----
    llr : [batch, m·n], float — ``log p(b=1)/p(b=0)``

    Output
    ------
    : [batch, m·k], float (``precision``) — hard decisions on the information bits
    """

    def __init__(self, encoder: BlockEncoder, iterations: int = 20, *, implementation: str = "sionna",
                 rule: str = "boxplus-phi", schedule: str = "flooding", scale: float = 0.75, offset: float = 0.5,
                 early_stop: bool = False, precision=None, **kwargs):
        super().__init__(precision=precision, **kwargs)
        self.k, self.n = encoder.k, encoder.n
        self.counts_iterations = encoder.code == "ldpc" and implementation == "fast"
        if self.counts_iterations:
            from linksim.phy.ldpc_decoding import QCLDPC5GDecoder

            self.decoder = QCLDPC5GDecoder(encoder.encoder, int(iterations), rule, scale=scale, offset=offset,
                                           schedule=schedule, early_stop=early_stop, return_iterations=True)
        elif encoder.code == "ldpc":
            from sionna.phy.fec.ldpc import LDPC5GDecoder

            self.decoder = LDPC5GDecoder(encoder.encoder, cn_update=rule, cn_schedule=schedule, num_iter=int(iterations),
                                         hard_out=True, return_infobits=True)
        else:
            from sionna.phy.fec.polar import Polar5GDecoder

            self.decoder = Polar5GDecoder(encoder.encoder, dec_type="hybSCL", list_size=POLAR_LIST_SIZE)

    def decode(self, llr):
        """Decode, and say how many iterations each row's codewords ran on average.

        Output
        ------
        bits : [batch, m·k], float (``precision``)
        iterations : [batch], float32 (mean over the row's m codewords), or ``None`` where the decoder
            does not count them (Sionna's, Polar)
        """
        import tensorflow as tf

        llr = tf.convert_to_tensor(llr)
        batch = tf.shape(llr)[0]
        blocks = tf.cast(_blocks_of(llr, self.n, "LLRs"), tf.float32)  # [batch·m, n]
        iterations = None
        if self.counts_iterations:
            decided, per_block = self.decoder(blocks)
            iterations = tf.reduce_mean(tf.reshape(tf.cast(per_block, tf.float32), [batch, -1]), axis=-1)  # [batch]
        else:
            decided = self.decoder(blocks)
        return tf.reshape(tf.cast(decided, self.rdtype), [batch, _row_length(llr, self.n, self.k)]), iterations  # [batch, m·k]

    def call(self, llr):
        return self.decode(llr)[0]
