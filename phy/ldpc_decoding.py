"""A fast belief-propagation decoder for Sionna's 5G NR LDPC codes, built for Monte Carlo.

:class:`QCLDPC5GDecoder` decodes the code of a Sionna ``LDPC5GEncoder`` (its parity-check matrix,
its rate matching) and takes and returns what Sionna's ``LDPC5GDecoder`` does. It differs inside:

- **Quasi-cyclic layout.** A 5G parity-check matrix is a base graph whose every non-zero entry is
  a Z×Z cyclic shift. The decoder keeps the a-posteriori LLRs as one tensor per base-graph
  column, [Z, batch], and the messages of base-graph row r as [d_r, Z, batch]: every check node of
  a row block meets exactly one variable of each of the row's d_r columns, so a check-node update is
  a dense reduction over the first axis, and the graph's edges are reached by cyclic shifts (rolls)
  of whole column blocks rather than by gathers and ragged segment operations over single edges.
- **Pruning to whole blocks.** Base-graph columns whose bits are all punctured by rate matching
  are degree-1 parity columns; they and their rows are dropped (a check that always meets an LLR of
  0 sends 0), as Sionna's ``prune_pcm`` does, but in whole Z-blocks so that the layout above holds.
- **Schedules.** ``flooding`` (every check node from the previous iteration's LLRs, as Sionna) or
  ``layered`` (row block after row block of the base graph, each seeing the LLRs updated by the
  blocks before it: the schedule of 5G hardware decoders and of AFF3CT's LDPC decoders, which
  needs about half the iterations of flooding for the same error rate).
- **Check-node rules.** ``boxplus-phi`` (exact sum-product, Sionna's default), ``minsum``,
  ``normalized-minsum`` (magnitudes times ``scale``), ``offset-minsum`` (magnitudes minus
  ``offset``, floored at 0; Sionna's offset is 0.5).
- **Early termination** (``early_stop``). A codeword stops once its hard decisions satisfy every
  kept parity check (syndrome zero); its decisions are those of that iteration. The batch is
  compacted as codewords stop, at fixed shapes so that XLA compiles it: it runs in levels of
  shrinking size (batch, batch/4, batch/16, …, not below 8), each level iterating until its
  unconverged codewords fit the next one, which gathers them with their messages and carries on.
  The work thus follows the codewords still decoding rather than the batch's slowest one (a batch
  at BLER 1e-3 holds a codeword that runs every iteration about every other batch of 500).

Sionna's ``LDPC5GDecoder`` stays the reference: at equal rule, schedule and iterations both give
the same BLER within Monte Carlo noise (``tests/test_ldpc_decoding.py``); bit-for-bit agreement is
not expected, as the order of floating-point sums differs.

LLR convention as Sionna's blocks: input ``log p(b=1)/p(b=0)``; inside, the decoder works with
``log p(b=0)/p(b=1)`` as the LDPC literature does.
"""
import numpy as np

from sionna.phy import Block

__all__ = ["CHECK_NODE_RULES", "SCHEDULES", "QCLDPC5GDecoder", "quasi_cyclic_structure"]

CHECK_NODE_RULES = ("boxplus-phi", "minsum", "normalized-minsum", "offset-minsum")
SCHEDULES = ("flooding", "layered")

_PHI_MIN, _PHI_MAX = 8.5e-8, 16.635532  # Sionna's float32 bounds of phi's argument


def quasi_cyclic_structure(encoder):
    """The kept part of ``encoder``'s base graph with its cyclic shifts.

    Parameters
    ----------
    encoder : sionna.phy.fec.ldpc.LDPC5GEncoder

    Output
    ------
    rows : list of list of (column, shift)
        For each kept row block r, the column blocks it meets and the shift s: check node z of block r
        meets variable node (z + s) mod Z of the column block.
    num_columns : int
        Kept column blocks (systematic, filler and transmitted parity blocks, and the core parity
        blocks every row block needs).
    """
    z, k_b = encoder.z, encoder.k_ldpc // encoder.z
    sent_parity = encoder.n - (encoder.k - 2 * z)  # parity bits transmitted after the systematic ones
    num_rows = max(-(-sent_parity // z), 4)  # row blocks 0-3 form the core, needed whatever is sent
    num_columns = k_b + num_rows
    pcm = encoder.pcm.tocsr()
    rows = []
    for r in range(num_rows):
        entries = []
        for c in range(num_columns):
            block = pcm[r * z:(r + 1) * z, c * z:(c + 1) * z]
            if block.nnz == 0:
                continue
            shift = int(block[0].indices[0])
            expected = (np.arange(z) + shift) % z
            if block.nnz != z or not np.array_equal(block.tocsr().indices, expected):
                raise ValueError(f"block ({r}, {c}) of the parity-check matrix is not a cyclic shift")
            entries.append((c, shift))
        if pcm[r * z, num_columns * z:].nnz:
            raise ValueError(f"internal: kept row block {r} meets a dropped column")
        rows.append(entries)
    # a dropped row block must meet a dropped (all-punctured, degree-1) column: checked, not assumed
    for r in range(num_rows, pcm.shape[0] // z):
        cols = {int(i) // z for i in pcm[r * z].indices}
        if not cols & set(range(num_columns, pcm.shape[1] // z)):
            raise ValueError(f"internal: row block {r} would be dropped but meets only kept columns")
    return rows, num_columns


class QCLDPC5GDecoder(Block):
    """Belief-propagation decoder of a 5G LDPC code on its quasi-cyclic structure (a Sionna ``Block``).

    Parameters
    ----------
    encoder : sionna.phy.fec.ldpc.LDPC5GEncoder
        The code: parity-check matrix, lifting, rate matching (its output interleaver included).
    iterations : int
        Maximum iterations (all of them without early termination).
    rule : "boxplus-phi" | "minsum" | "normalized-minsum" | "offset-minsum"
    scale : float
        Factor of ``normalized-minsum`` (0 < scale ≤ 1).
    offset : float
        Offset of ``offset-minsum`` (≥ 0).
    schedule : "flooding" | "layered"
    early_stop : bool
        Stop each codeword once its syndrome is zero (else run all ``iterations``).
    llr_max : float
        Channel LLRs are clipped to ±llr_max (Sionna's 20); filler bits enter as +llr_max.
    hard_out, return_infobits : bool
        As Sionna's ``LDPC5GDecoder``.
    return_iterations : bool
        Also return the iterations each codeword ran.
    precision : None | "single" | "double"

    Input
    -----
    llr : [..., n], float — ``log p(b=1)/p(b=0)``

    Output
    ------
    : [..., k] (``return_infobits``) or [..., n], float — hard bits in {0, 1} (``hard_out``) or LLRs
      ``log p(b=1)/p(b=0)``
    : [...], int32 (``return_iterations``) — iterations run: the first whose decisions satisfy every
      parity check, else ``iterations`` (without ``early_stop``: always ``iterations``)
    """

    LEVEL_SHRINK = 4  # early stopping: each level holds this fraction of the previous one's codewords

    def __init__(self, encoder, iterations: int = 20, rule: str = "boxplus-phi", *, scale: float = 0.75,
                 offset: float = 0.5, schedule: str = "flooding", early_stop: bool = False, llr_max: float = 20.0,
                 hard_out: bool = True, return_infobits: bool = True, return_iterations: bool = False,
                 precision=None, **kwargs):
        super().__init__(precision=precision, **kwargs)
        if rule not in CHECK_NODE_RULES:
            raise ValueError(f"rule must be one of {', '.join(CHECK_NODE_RULES)}, got {rule!r}")
        if schedule not in SCHEDULES:
            raise ValueError(f"schedule must be one of {', '.join(SCHEDULES)}, got {schedule!r}")
        if not (isinstance(iterations, int) and iterations >= 1):
            raise ValueError(f"iterations must be a positive integer, got {iterations!r}")
        if not 0 < scale <= 1:
            raise ValueError(f"scale must be in (0, 1], got {scale}")
        if offset < 0:
            raise ValueError(f"offset must be ≥ 0, got {offset}")
        self.encoder = encoder
        self.iterations, self.rule, self.scale, self.offset = iterations, rule, float(scale), float(offset)
        self.schedule, self.early_stop, self.llr_max = schedule, bool(early_stop), float(llr_max)
        self.hard_out, self.return_infobits, self.return_iterations = hard_out, return_infobits, return_iterations
        self.rows, self.num_columns = quasi_cyclic_structure(encoder)
        z = encoder.z
        # per row block: the variable each edge meets, edge (i, z) at i·Z + z → column c_i's bit (z + s_i) mod Z
        self._edges = [np.concatenate([c * z + (np.arange(z) + s) % z for c, s in entries]).astype(np.int32)
                       for entries in self.rows]
        self._all_edges = np.concatenate(self._edges)

    # ------------------------------------------------------------------ rate matching
    def _mother_llrs(self, llr):
        """[B, n] logits → [C·Z, B] LLRs log p0/p1 of the kept mother-code columns' bits."""
        import tensorflow as tf

        enc, z = self.encoder, self.encoder.z
        if enc.num_bits_per_symbol is not None:
            llr = tf.gather(llr, enc.out_int_inv, axis=-1)
        llr = -tf.clip_by_value(llr, -self.llr_max, self.llr_max)
        batch = tf.shape(llr)[0]
        systematic = enc.k - 2 * z
        total = self.num_columns * z
        tail = total - enc.k_ldpc - (enc.n - systematic)  # punctured parity within the kept columns
        parts = [tf.zeros([batch, 2 * z], llr.dtype),  # the first 2Z systematic bits are never sent
                 llr[:, :systematic],
                 tf.fill([batch, enc.k_ldpc - enc.k], tf.constant(self.llr_max, llr.dtype)),  # filler: known 0
                 llr[:, systematic:],
                 tf.zeros([batch, tail], llr.dtype)]
        mother = tf.concat(parts, axis=1)  # [B, C·Z]
        return tf.transpose(mother)

    def _outputs(self, flat):
        """[B, C·Z] decisions (:meth:`_decision`: hard int8 or LLRs log p0/p1) → Sionna's output [B, k] or [B, n]."""
        import tensorflow as tf

        enc, z = self.encoder, self.encoder.z
        if self.return_infobits:
            out = flat[:, :enc.k]
        else:
            systematic = enc.k - 2 * z
            out = tf.concat([flat[:, 2 * z:enc.k], flat[:, enc.k_ldpc:enc.k_ldpc + enc.n - systematic]], axis=1)
            if enc.num_bits_per_symbol is not None:
                out = tf.gather(out, enc.out_int, axis=-1)
        if self.hard_out:
            return tf.cast(out, self.rdtype)
        return tf.cast(-tf.clip_by_value(out, -self.llr_max, self.llr_max), self.rdtype)

    # ------------------------------------------------------------------ check nodes
    def _check_node(self, v2c):
        """v2c [d, Z, B] → c2v [d, Z, B]: each edge gets the rule's combination of the other d − 1."""
        import tensorflow as tf

        negative = v2c < 0
        odd = tf.math.logical_xor(negative, tf.reduce_sum(tf.cast(negative, tf.int32), axis=0) % 2 == 1)
        magnitude = tf.abs(v2c)
        if self.rule == "boxplus-phi":
            phi = _phi(tf.clip_by_value(magnitude, _PHI_MIN, _PHI_MAX))
            out = _phi(tf.clip_by_value(tf.reduce_sum(phi, axis=0) - phi, _PHI_MIN, _PHI_MAX))
        else:
            first = tf.reduce_min(magnitude, axis=0)
            is_first = tf.equal(magnitude, first)
            second = tf.reduce_min(tf.where(is_first, tf.constant(np.inf, v2c.dtype), magnitude), axis=0)
            # the edge holding the minimum gets the second smallest; where the minimum is tied, every edge gets it
            alone = tf.equal(tf.reduce_sum(tf.cast(is_first, v2c.dtype), axis=0), 1.0)
            out = tf.where(tf.logical_and(is_first, alone), second, first)
            if self.rule == "normalized-minsum":
                out = out * self.scale
            elif self.rule == "offset-minsum":
                out = tf.nn.relu(out - self.offset)
        return tf.where(odd, -out, out)

    # ------------------------------------------------------------------ one iteration
    def _iteration(self, channel, app, c2v):
        """One iteration. channel, app: [C·Z, B]; c2v: tuple of [d_r, Z, B], one per row block."""
        import tensorflow as tf

        z, c2v = self.encoder.z, list(c2v)
        for r, edges in enumerate(self._edges):
            d = len(self.rows[r])
            v2c = tf.reshape(tf.gather(app, edges), [d, z, -1]) - c2v[r]  # [d, Z, B]
            if self.schedule == "flooding":  # Sionna clips variable-to-check messages
                c2v[r] = self._check_node(tf.clip_by_value(v2c, -self.llr_max, self.llr_max))
            else:  # layered: an a-posteriori LLR must stay the exact sum of its messages, so clip check-to-variable
                c2v[r] = tf.clip_by_value(self._check_node(v2c), -self.llr_max, self.llr_max)
                app = tf.tensor_scatter_nd_update(app, edges[:, None], tf.reshape(v2c + c2v[r], [d * z, -1]))
        if self.schedule == "flooding":
            messages = tf.concat([tf.reshape(m, [-1, tf.shape(m)[-1]]) for m in c2v], axis=0)  # [E, B]
            app = tf.tensor_scatter_nd_add(channel, self._all_edges[:, None], messages)
        return app, tuple(c2v)

    def _satisfied(self, app):
        """app [C·Z, B] → [B] bool: every kept parity check holds for the hard decisions."""
        import tensorflow as tf

        hard = tf.cast(app < 0, tf.int8)  # bytes: a quarter of the memory traffic of floats
        bad = [tf.reduce_max(tf.bitwise.bitwise_and(tf.reduce_sum(tf.reshape(tf.gather(hard, edges), [len(self.rows[r]), self.encoder.z, -1]),
                                                                  axis=0), tf.constant(1, tf.int8)), axis=0)
               for r, edges in enumerate(self._edges)]
        return tf.equal(tf.reduce_max(tf.stack(bad), axis=0), 0)

    def _decision(self, app):
        """What the output needs of ``app`` [C·Z, b]: hard decisions as int8 (an LLR of exactly 0 decides 1, as
        Sionna's), or the LLRs themselves (``hard_out=False``)."""
        import tensorflow as tf

        return tf.cast(app <= 0, tf.int8) if self.hard_out else app

    # ------------------------------------------------------------------ decoding loops
    def _run_level(self, it, channel, app, c2v, final, done_at, live, limit: int):
        """Iterate one level's batch while more than ``limit`` of its live codewords are unconverged.

        A codeword's decisions are kept (``final``) at the iteration its syndrome first becomes zero,
        so an early-stopped codeword reads as if decoding had stopped there.
        channel, app: [C·Z, b]; final: [C·Z, b] (:meth:`_decision`); c2v: per row block [d, Z, b]; done_at, live [b].
        """
        import tensorflow as tf

        def unconverged(done_at):
            return tf.reduce_sum(tf.cast(tf.logical_and(live, done_at == self.iterations), tf.int32))

        def cond(it, app, c2v, final, done_at):
            more = it < self.iterations
            return tf.logical_and(more, unconverged(done_at) > limit) if self.early_stop else more

        def body(it, app, c2v, final, done_at):
            app, c2v = self._iteration(channel, app, c2v)
            if not self.early_stop:
                return it + 1, app, c2v, final, done_at
            fresh = tf.logical_and(self._satisfied(app), done_at == self.iterations)
            final = tf.where(fresh, self._decision(app), final)
            return it + 1, app, c2v, final, tf.where(fresh, it + 1, done_at)

        return tf.while_loop(cond, body, (it, app, c2v, final, done_at))

    def _decode(self, channel):
        """All iterations (no early stopping), or early stopping with compaction at fixed shapes.

        Early stopping runs the batch in levels of shrinking size (batch, batch/4, batch/16, …, ≥ 8):
        a level iterates until its unconverged codewords fit the next level, which then takes them
        (gathered along the batch axis with their messages) and goes on from the same iteration. The
        work thus follows the codewords still decoding, not the slowest codeword of the batch, and
        every shape is static, so the loop compiles with XLA.
        """
        import tensorflow as tf

        batch = channel.shape[1]
        if batch is None:
            batch_t = tf.shape(channel)[1]
            sizes = [None]  # unknown batch (eager/graph without static shapes): one level, a batch stop
        else:
            batch_t, sizes = batch, [batch]
            while self.early_stop and sizes[-1] // self.LEVEL_SHRINK >= 8:
                sizes.append(sizes[-1] // self.LEVEL_SHRINK)
        app = channel
        c2v = tuple(tf.zeros([len(e), self.encoder.z, batch_t], channel.dtype) for e in self.rows)
        final = self._decision(channel)
        done_at = tf.fill([batch_t], self.iterations)
        live = tf.ones([batch_t], tf.bool)
        it = tf.constant(0)
        results = tf.zeros([batch_t, self.num_columns * self.encoder.z], final.dtype)  # [B, C·Z] decisions
        results_done = done_at  # [B]
        index = tf.range(batch_t)  # the level's slots → codewords of the batch
        for level, size in enumerate(sizes):
            limit = sizes[level + 1] if level + 1 < len(sizes) else 0
            it, app, c2v, final, done_at = self._run_level(it, channel, app, c2v, final, done_at, live, limit)
            final = tf.where(done_at == self.iterations, self._decision(app), final)  # unconverged: latest decisions
            rows = tf.transpose(final)  # [b, C·Z]
            # padding slots (not live) hold codewords finished at an earlier level: write their own rows back
            keep = tf.logical_not(live)
            results = tf.tensor_scatter_nd_update(
                results, index[:, None], tf.where(keep[:, None], tf.gather(results, index), rows))
            results_done = tf.tensor_scatter_nd_update(
                results_done, index[:, None], tf.where(keep, tf.gather(results_done, index), done_at))
            if level + 1 < len(sizes):  # the unconverged codewords first, then converged ones as padding
                open_ = tf.logical_and(live, done_at == self.iterations)
                order = tf.argsort(tf.cast(tf.logical_not(open_), tf.int32), stable=True)[:limit]

                def take(x, order=order):
                    return tf.gather(x, order, axis=x.shape.rank - 1)

                channel, app, c2v = take(channel), take(app), tuple(map(take, c2v))
                final, done_at, live, index = take(final), take(done_at), take(open_), take(index)
        return results, results_done

    def call(self, llr):
        import tensorflow as tf

        llr = tf.convert_to_tensor(llr)
        shape = tf.shape(llr)
        n = self.encoder.n
        flat = tf.reshape(tf.cast(llr, tf.float32 if self.rdtype == tf.float32 else self.rdtype), [-1, n])
        app, done_at = self._decode(self._mother_llrs(flat))  # from [C·Z, B]
        width = self.encoder.k if self.return_infobits else n
        out = tf.reshape(self._outputs(app), tf.concat([shape[:-1], [width]], axis=0))
        if self.return_iterations:
            return out, tf.reshape(done_at, shape[:-1])
        return out


def _phi(x):
    """phi(x) = −log tanh(x/2) = log((e^x + 1)/(e^x − 1)), for x > 0; its own inverse."""
    import tensorflow as tf

    return tf.math.log(1.0 + 2.0 / tf.math.expm1(x))

