"""A 5G LDPC encoder on the code's quasi-cyclic structure, bit for bit Sionna's ``LDPC5GEncoder``.

Sionna's encoder multiplies by sparse matrices of the whole mother code (n_ldpc bits, 66·Z for base
graph 1, 50·Z for 2) through gathers padded to the densest row, although rate matching then sends
only n of those bits. :class:`QCLDPC5GEncoder` computes only the parity blocks that are sent, on the
base graph: each non-zero entry is a cyclic shift of a Z-bit block (a roll), each row block a
parity equation over whole blocks (XOR of rolled blocks), solved block by block:

- the four core rows, summed, leave one shifted copy of the first parity block (the others cancel
  pairwise), which gives that block; each core row then has one unknown block left, in turn;
- every extension row has one unknown block (its own degree-1 parity column).

The order of this solve is derived from the parity-check matrix and checked when the encoder is
built (a matrix without that structure is refused), not assumed per base graph. Rate matching
(filler bits, the first 2·Z systematic bits not sent, the output interleaver for
``num_bits_per_symbol``) is Sionna's; ``tests/test_ldpc_encoding.py`` checks equality bit for bit
over both base graphs, filler bits and interleaving.
"""

from sionna.phy import Block

from linksim.phy.ldpc_decoding import quasi_cyclic_structure

__all__ = ["QCLDPC5GEncoder", "encoding_plan"]


def encoding_plan(rows, num_systematic: int, num_columns: int) -> list[tuple[int, int, int, list]]:
    """The order in which the parity blocks are solved.

    Parameters
    ----------
    rows : list of list of (column, shift)
        The kept row blocks (:func:`linksim.phy.ldpc_decoding.quasi_cyclic_structure`).
    num_systematic, num_columns : int
        Systematic column blocks (k_ldpc / Z) and all kept column blocks.

    Output
    ------
    list of (column, shift, rows_summed, known_entries)
        Block ``column`` is ``roll(Σ_known roll(block_c, −s_c), shift)`` where ``known_entries`` are the
        (column, shift) of already known blocks met by the summed rows (``rows_summed``: ``-1`` for
        the sum of the four core rows, else one row).
    """
    core = range(4)
    odd: dict = {}
    for r in core:
        for entry in rows[r]:
            odd[entry] = not odd.get(entry, False)
    left = [entry for entry, is_odd in odd.items() if is_odd]
    unknown_left = [(c, s) for c, s in left if c >= num_systematic]
    if len(unknown_left) != 1:
        raise ValueError(f"the core rows' sum leaves {len(unknown_left)} parity blocks, expected 1: not a 5G base graph")
    first, shift = unknown_left[0]
    plan = [(first, shift, -1, [e for e in left if e[0] < num_systematic])]
    known = set(range(num_systematic)) | {first}
    pending = list(range(len(rows)))
    while pending:
        solvable = [r for r in pending if len({c for c, _ in rows[r] if c not in known}) == 1]
        if not solvable:
            if all({c for c, _ in rows[r]} <= known for r in pending):
                break  # only checks left: every block is known
            raise ValueError("parity blocks that no row determines alone: not a 5G base graph")
        r = solvable[0]
        pending.remove(r)
        (column, shift), = [(c, s) for c, s in rows[r] if c not in known]
        plan.append((column, shift, r, [(c, s) for c, s in rows[r] if c in known]))
        known.add(column)
    if known != set(range(num_columns)):
        raise ValueError("internal: not every kept parity block is determined")
    return plan


class QCLDPC5GEncoder(Block):
    """Sionna's ``LDPC5GEncoder`` computed on the code's quasi-cyclic structure (a Sionna ``Block``).

    Parameters
    ----------
    encoder : sionna.phy.fec.ldpc.LDPC5GEncoder
        The code: its parity-check matrix, lifting and rate matching (output interleaver included).
    precision : None | "single" | "double"
        Of the output.

    Input
    -----
    bits : [..., k], float in {0, 1}

    Output
    ------
    : [..., n], float — the codeword Sionna's encoder gives, bit for bit
    """

    def __init__(self, encoder, *, precision=None, **kwargs):
        super().__init__(precision=precision, **kwargs)
        self.encoder = encoder
        rows, num_columns = quasi_cyclic_structure(encoder)
        self._num_systematic = encoder.k_ldpc // encoder.z
        self._num_columns = num_columns
        self._plan = encoding_plan(rows, self._num_systematic, num_columns)

    def call(self, bits):
        import tensorflow as tf

        enc, z = self.encoder, self.encoder.z
        bits = tf.convert_to_tensor(bits)
        shape = tf.shape(bits)
        u = tf.cast(tf.reshape(bits, [-1, enc.k]), tf.int8)  # [B, k]
        batch = tf.shape(u)[0]
        filled = tf.concat([u, tf.zeros([batch, enc.k_ldpc - enc.k], tf.int8)], axis=1)
        blocks = dict(enumerate(tf.unstack(tf.reshape(tf.transpose(filled), [self._num_systematic, z, -1]))))  # c → [Z, B]

        def rolled(entry):
            column, shift = entry
            return tf.roll(blocks[column], -shift, axis=0)  # check node j meets bit (j + shift) mod Z

        for column, shift, _, known in self._plan:
            total = rolled(known[0])
            for entry in known[1:]:
                total = tf.bitwise.bitwise_xor(total, rolled(entry))
            blocks[column] = tf.roll(total, shift, axis=0)
        parity = tf.stack([blocks[c] for c in range(self._num_systematic, self._num_columns)])  # [P, Z, B]
        sent_parity = enc.n - (enc.k - 2 * z)
        parity = tf.transpose(tf.reshape(parity, [-1, batch]))[:, :sent_parity]  # [B, sent parity]
        codeword = tf.concat([u[:, 2 * z:], parity], axis=1)  # [B, n]
        if enc.num_bits_per_symbol is not None:
            codeword = tf.gather(codeword, enc.out_int, axis=-1)
        return tf.reshape(tf.cast(codeword, self.rdtype), tf.concat([shape[:-1], [enc.n]], axis=0))
