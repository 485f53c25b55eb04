"""Forward error correction from Sionna: the 5G NR LDPC code, applied block by block.

A row of ``m·k`` information bits is cut into ``m`` blocks of ``k`` bits, each encoded into ``n``
coded bits (Sionna's 38.212 rate matching: shortening and puncturing); the decoder takes the
``m·n`` channel LLRs of the row (``log p(b=1)/p(b=0)``, Sionna's convention) and returns the
``m·k`` hard information bits.

No decoder is written here: the blocks are Sionna's ``LDPC5GEncoder`` and ``LDPC5GDecoder``.
"""
__all__ = ["CODES", "code_error", "BlockEncoder", "BlockDecoder"]

CODES = ("ldpc",)


def _sionna_encoder(code: str, k: int, n: int):
    if code == "ldpc":
        from sionna.phy.fec.ldpc import LDPC5GEncoder

        return LDPC5GEncoder(k, n)
    raise ValueError(f"code must be one of {', '.join(CODES)}, got {code!r}")


def code_error(code: str, k: int, n: int) -> str | None:
    """Why Sionna's 5G ``code`` cannot have ``k`` information and ``n`` coded bits, or ``None``.

    ``k < n`` is checked first; the other limits are Sionna's own (12 ≤ k ≤ 8448, n ≤ 121344,
    1/5 ≤ k/n ≤ 0.95), found by constructing its encoder.
    """
    if not 0 < k < n:
        return f"k ({k}) must be smaller than n ({n})"
    try:
        _sionna_encoder(code, k, n)
    except (ValueError, AssertionError) as exc:
        return f"Sionna's 5G {code} encoder refuses k={k}, n={n}: {exc}".rstrip(".")
    return None


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
        blocks = tf.reshape(bits, [batch, -1, self.k])
        return tf.reshape(self.encoder(blocks), [batch, -1])


class BlockDecoder:
    """Decode every ``n``-LLR block of a row with Sionna's belief-propagation decoder for ``encoder``.

    Parameters
    ----------
    encoder : BlockEncoder
    iterations : int
        Belief-propagation iterations (Sionna's default 20).

    Input
    -----
    llr : [batch, m·n], float32 — ``log p(b=1)/p(b=0)``

    Output
    ------
    : [batch, m·k], float32 — hard decisions on the information bits
    """

    def __init__(self, encoder: BlockEncoder, iterations: int = 20):
        from sionna.phy.fec.ldpc import LDPC5GDecoder

        self.k, self.n = encoder.k, encoder.n
        self.decoder = LDPC5GDecoder(encoder.encoder, num_iter=int(iterations), hard_out=True, return_infobits=True)

    def __call__(self, llr):
        import tensorflow as tf

        llr = tf.convert_to_tensor(llr, tf.float32)
        batch = tf.shape(llr)[0]
        blocks = tf.reshape(llr, [batch, -1, self.n])
        return tf.reshape(tf.cast(self.decoder(blocks), tf.float32), [batch, -1])
