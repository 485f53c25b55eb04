"""Forward error correction from Sionna: the 5G NR LDPC and Polar codes, applied block by block.

A row of ``m·k`` information bits is cut into ``m`` blocks of ``k`` bits, each encoded into ``n``
coded bits (Sionna's 38.212 rate matching: shortening, puncturing, repetition); the decoder takes
the ``m·n`` channel LLRs of the row (``log p(b=1)/p(b=0)``, Sionna's convention) and returns the
``m·k`` hard information bits.

No decoder is written here: the blocks are Sionna's ``LDPC5GEncoder`` / ``LDPC5GDecoder`` (belief
propagation) and ``Polar5GEncoder`` / ``Polar5GDecoder`` (uplink: CRC-11 or CRC-6 inside the ``k``
bits' code, CRC-aided list decoding). The Polar decoder is Sionna's ``hybSCL``: successive
cancellation first, and Sionna's NumPy SCL decoder (list 8) for the blocks whose CRC then fails.
Sionna's pure-TensorFlow SCL unrolls the whole decoding tree into the graph, which took more than
10 minutes to build on a 2-core CPU at n = 256; the hybrid decoder builds in seconds and keeps the
list decoder's CRC-aided choice wherever SC alone is wrong.
"""
__all__ = ["CODES", "code_error", "BlockEncoder", "BlockDecoder"]

CODES = ("ldpc", "polar")
POLAR_LIST_SIZE = 8  # not fixed by 38.212; the list size of the 3GPP reference curves


def _sionna_encoder(code: str, k: int, n: int):
    if code == "ldpc":
        from sionna.phy.fec.ldpc import LDPC5GEncoder

        return LDPC5GEncoder(k, n)
    if code == "polar":
        from sionna.phy.fec.polar import Polar5GEncoder

        return Polar5GEncoder(k, n)
    raise ValueError(f"code must be one of {', '.join(CODES)}, got {code!r}")


LDPC_MAX_K, LDPC_MIN_K, LDPC_MAX_N = 8448, 12, 316 * 384  # Sionna 1.2's LDPC5GEncoder (38.212, one codeword per block)
POLAR_MIN_N, POLAR_MAX_K, POLAR_MAX_N, POLAR_UPLINK_CRC = 18, 1013, 1088, 11  # Sionna 1.2's Polar5GEncoder, uplink


def _sionna_limit(code: str, k: int, n: int) -> str | None:
    """The first of Sionna's own limits that (``code``, k, n) breaks, in Sionna's words, or ``None``.

    Written out here so that validating a scenario needs no TensorFlow; tests/test_coding.py checks
    it against constructing Sionna's encoders."""
    if code == "ldpc":
        if k > LDPC_MAX_K:
            return "Unsupported code length (k too large)"
        if k < LDPC_MIN_K:
            return "Unsupported code length (k too small)"
        if n > LDPC_MAX_N:
            return "Unsupported code length (n too large)"
        if k / n > 0.95:
            return f"Unsupported coderate (r>0.95) for n={n}, k={k}"
        if k / n < 1 / 5:
            return "Unsupported coderate (r<1/5)"
        return None
    if n < POLAR_MIN_N:
        return "n<18 is not supported by the 5G Polar coding scheme"
    if k > POLAR_MAX_K:
        return "k too large - a codeword is not split (no 38.212 code block division)"
    if n > POLAR_MAX_N:
        return "n too large - a codeword is not split (no 38.212 code block division)"
    if k + POLAR_UPLINK_CRC > n:
        return "Device is not expected to be configured with k_polar + k_crc + n_pc > n_target"
    return None


def code_error(code: str, k: int, n: int) -> str | None:
    """Why Sionna's 5G ``code`` cannot have ``k`` information and ``n`` coded bits, or ``None``.

    ``k < n`` is checked first, then Sionna's own limits (LDPC: 12 ≤ k ≤ 8448, n ≤ 121344,
    1/5 ≤ k/n ≤ 0.95; Polar uplink: n ≥ 18, k ≤ 1013, n ≤ 1088, k + 11 CRC bits ≤ n). Polar with
    12 ≤ k ≤ 19 is refused: 38.212's extra parity-check bits for it are not in Sionna. Imports no
    TensorFlow.
    """
    if code not in CODES:
        raise ValueError(f"code must be one of {', '.join(CODES)}, got {code!r}")
    if not 0 < k < n:
        return f"k ({k}) must be smaller than n ({n})"
    if code == "polar" and k < 20:
        return f"polar k = {k}: 38.212 adds 3 parity-check bits for 12 ≤ k ≤ 19, which Sionna does not implement; use k ≥ 20"
    limit = _sionna_limit(code, k, n)
    return None if limit is None else f"Sionna's 5G {code} encoder refuses k={k}, n={n}: {limit}"


def _row_length(x, block_in: int, block_out: int) -> int:
    """Static length of an output row (m·block_out) where x's row length is static, else -1."""
    return -1 if x.shape[-1] is None else x.shape[-1] // block_in * block_out


class BlockEncoder:
    """Encode every ``k``-bit block of a row.

    Input
    -----
    bits : [batch, m·k], float32 in {0, 1}

    Output
    ------
    : [batch, m·n], float32 — coded bits
    """

    def __init__(self, code: str, k: int, n: int):
        self.code, self.k, self.n = code, int(k), int(n)
        self.encoder = _sionna_encoder(code, self.k, self.n)

    def __call__(self, bits):
        import tensorflow as tf

        bits = tf.convert_to_tensor(bits, tf.float32)
        batch = tf.shape(bits)[0]
        blocks = tf.reshape(bits, [-1, self.k])  # [batch·m, k]
        return tf.reshape(self.encoder(blocks), [batch, _row_length(bits, self.k, self.n)])  # [batch, m·n]


class BlockDecoder:
    """Decode every ``n``-LLR block of a row with Sionna's decoder for ``encoder``'s code: belief
    propagation (LDPC) or hybrid SC/SCL with list size 8 (Polar).

    Parameters
    ----------
    encoder : BlockEncoder
    iterations : int
        Belief-propagation iterations (LDPC only; Sionna's default 20).

    Input
    -----
    llr : [batch, m·n], float32 — ``log p(b=1)/p(b=0)``

    Output
    ------
    : [batch, m·k], float32 — hard decisions on the information bits
    """

    def __init__(self, encoder: BlockEncoder, iterations: int = 20):
        self.k, self.n = encoder.k, encoder.n
        if encoder.code == "ldpc":
            from sionna.phy.fec.ldpc import LDPC5GDecoder

            self.decoder = LDPC5GDecoder(encoder.encoder, num_iter=int(iterations), hard_out=True, return_infobits=True)
        else:
            from sionna.phy.fec.polar import Polar5GDecoder

            self.decoder = Polar5GDecoder(encoder.encoder, dec_type="hybSCL", list_size=POLAR_LIST_SIZE)

    def __call__(self, llr):
        import tensorflow as tf

        llr = tf.convert_to_tensor(llr, tf.float32)
        batch = tf.shape(llr)[0]
        blocks = tf.reshape(llr, [-1, self.n])  # [batch·m, n]
        return tf.reshape(tf.cast(self.decoder(blocks), tf.float32), [batch, _row_length(llr, self.n, self.k)])  # [batch, m·k]
