"""The quasi-cyclic 5G LDPC decoder against Sionna's LDPC5GDecoder: same structure, same messages
where the algorithms coincide, the same BLER at equal rule, schedule and iterations."""
import numpy as np
import pytest
import tensorflow as tf
from sionna.phy.fec.ldpc import LDPC5GDecoder, LDPC5GEncoder

from linksim.phy.ldpc_decoding import QCLDPC5GDecoder, quasi_cyclic_structure

CODES = [(1024, 2048), (128, 256), (4000, 6000)]  # BG2 rate 1/2, a short BG2 code, BG1 rate 2/3


def _two_proportion_z(errors_a, trials_a, errors_b, trials_b):
    pooled = (errors_a + errors_b) / (trials_a + trials_b)
    if pooled in (0, 1):
        return 0.0
    return (errors_a / trials_a - errors_b / trials_b) / np.sqrt(pooled * (1 - pooled) * (1 / trials_a + 1 / trials_b))


def _bpsk_llrs(encoder, bits, ebno_db, rng):
    """Sionna-convention LLRs log p(1)/p(0) of ``encoder(bits)`` sent as BPSK over AWGN at ``ebno_db``."""
    sigma = np.sqrt(1 / (2 * encoder.k / encoder.n * 10 ** (ebno_db / 10)))
    received = 1 - 2 * encoder(bits).numpy() + sigma * rng.standard_normal((len(bits), encoder.n)).astype(np.float32)
    return tf.constant(-2 * received / sigma**2)


@pytest.mark.parametrize("k, n", CODES)
def test_structure_is_the_encoders_parity_check_matrix(k, n):
    encoder = LDPC5GEncoder(k, n)
    rows, columns = quasi_cyclic_structure(encoder)  # raises unless every kept block is a cyclic shift
    z, pcm = encoder.z, encoder.pcm.toarray()
    rebuilt = np.zeros((len(rows) * z, columns * z), int)
    for r, entries in enumerate(rows):
        for c, shift in entries:
            rebuilt[r * z + np.arange(z), c * z + (np.arange(z) + shift) % z] = 1
    assert np.array_equal(rebuilt, pcm[:len(rows) * z, :columns * z])
    assert not pcm[:len(rows) * z, columns * z:].any()  # kept rows meet no dropped column


@pytest.mark.parametrize("k, n", CODES)
def test_clean_codewords_decode_at_once(k, n):
    encoder = LDPC5GEncoder(k, n)
    bits = np.random.default_rng(0).integers(0, 2, (6, k)).astype(np.float32)
    llr = 10.0 * (2 * encoder(bits) - 1)  # Sionna's sign: positive means 1
    for schedule in ("flooding", "layered"):
        decoder = QCLDPC5GDecoder(encoder, 20, schedule=schedule, early_stop=True, return_iterations=True)
        decided, iterations = decoder(llr)
        assert np.array_equal(decided.numpy(), bits)
        assert set(iterations.numpy().tolist()) <= {1, 2}  # the 2Z punctured bits learn their values in the first iteration
    everything = QCLDPC5GDecoder(encoder, 3, return_infobits=False, hard_out=False)(llr)
    assert np.array_equal(everything.numpy() > 0, encoder(bits).numpy() > 0.5)  # the codeword, rate matching undone


@pytest.mark.parametrize("rule", ["minsum", "offset-minsum"])
def test_min_sum_messages_equal_sionnas(rule):
    """Flooding min-sum is the same algorithm in both decoders: soft outputs agree to float rounding."""
    encoder = LDPC5GEncoder(1024, 2048)
    rng = np.random.default_rng(1)
    llr = _bpsk_llrs(encoder, rng.integers(0, 2, (50, 1024)).astype(np.float32), 1.2, rng)
    for iterations in (1, 4):
        ours = QCLDPC5GDecoder(encoder, iterations, rule, hard_out=False, return_infobits=False)(llr).numpy()
        theirs = LDPC5GDecoder(encoder, cn_update=rule, num_iter=iterations, hard_out=False, return_infobits=False)(llr).numpy()
        np.testing.assert_allclose(ours, theirs, atol=1e-3)


def test_boxplus_phi_first_iteration_equals_sionnas():
    encoder = LDPC5GEncoder(128, 256)
    rng = np.random.default_rng(2)
    llr = _bpsk_llrs(encoder, rng.integers(0, 2, (50, 128)).astype(np.float32), 2.0, rng)
    ours = QCLDPC5GDecoder(encoder, 1, hard_out=False, return_infobits=False)(llr).numpy()
    theirs = LDPC5GDecoder(encoder, num_iter=1, hard_out=False, return_infobits=False)(llr).numpy()
    np.testing.assert_allclose(ours, theirs, atol=2e-3)


# (k, n): [(Eb/N0 dB, codewords)] for BLER ≈ 1e-1, 1e-2, 1e-3 with boxplus-phi, flooding, 20 iterations
AGREEMENT = {(1024, 2048): [(1.3, 2000), (1.6, 5000), (1.75, 20000)],
             (128, 256): [(2.0, 2000), (2.6, 5000), (3.25, 20000)]}


@pytest.mark.parametrize("code", AGREEMENT)
def test_bler_equals_sionnas(code):
    """Same noise through Sionna's decoder and ours (boxplus-phi, flooding, 20 iterations), ours with
    and without early termination: at each point every pair of BLERs passes the two-proportion test
    at 99.9 %."""
    k, n = code
    encoder = LDPC5GEncoder(k, n)
    decoders = {"sionna": LDPC5GDecoder(encoder, num_iter=20),
                "fixed": QCLDPC5GDecoder(encoder, 20),
                "early": QCLDPC5GDecoder(encoder, 20, early_stop=True)}
    compiled = {name: tf.function(d, jit_compile=True) for name, d in decoders.items()}
    rng = np.random.default_rng(k)
    batch = 1000
    for ebno_db, codewords in AGREEMENT[code]:
        errors = dict.fromkeys(decoders, 0)
        for _ in range(codewords // batch):
            bits = rng.integers(0, 2, (batch, k)).astype(np.float32)
            llr = _bpsk_llrs(encoder, bits, ebno_db, rng)
            for name, decode in compiled.items():
                errors[name] += int(np.sum(np.any(decode(llr).numpy() != bits, axis=1)))
        assert errors["sionna"] > 0, ebno_db  # the point is not error-free: the test can fail
        for a, b in [("sionna", "fixed"), ("sionna", "early"), ("fixed", "early")]:
            z = _two_proportion_z(errors[a], codewords, errors[b], codewords)
            assert abs(z) < 3.29, (ebno_db, a, b, errors)


def test_layered_converges_in_fewer_iterations():
    encoder = LDPC5GEncoder(1024, 2048)
    rng = np.random.default_rng(3)
    llr = _bpsk_llrs(encoder, rng.integers(0, 2, (400, 1024)).astype(np.float32), 1.6, rng)
    mean = {}
    for schedule in ("flooding", "layered"):
        decoder = QCLDPC5GDecoder(encoder, 30, schedule=schedule, early_stop=True, return_iterations=True)
        mean[schedule] = float(tf.reduce_mean(tf.cast(tf.function(decoder, jit_compile=True)(llr)[1], tf.float32)))
    assert mean["layered"] < 0.75 * mean["flooding"], mean


def test_early_stop_reports_the_first_satisfied_iteration():
    """An early-stopped codeword's decisions are those of the iteration it stopped at: decoding it
    again with exactly that many iterations and no early stop gives the same bits."""
    encoder = LDPC5GEncoder(128, 256)
    rng = np.random.default_rng(4)
    llr = _bpsk_llrs(encoder, rng.integers(0, 2, (64, 128)).astype(np.float32), 2.0, rng)
    decided, iterations = QCLDPC5GDecoder(encoder, 20, early_stop=True, return_iterations=True)(llr)
    iterations = iterations.numpy()
    assert len(set(iterations)) > 3  # codewords stop at different iterations
    for count in sorted(set(iterations)):
        rows = np.flatnonzero(iterations == count)
        again = QCLDPC5GDecoder(encoder, int(count))(tf.gather(llr, rows))
        assert np.array_equal(again.numpy(), decided.numpy()[rows]), count


@pytest.mark.parametrize("options, message", [
    ({"rule": "sum"}, "rule must be one of"), ({"schedule": "random"}, "schedule must be one of"),
    ({"iterations": 0}, "iterations must be a positive integer"), ({"scale": 1.5}, "scale must be in")])
def test_bad_options(options, message):
    arguments = {"iterations": 20, **options}
    with pytest.raises(ValueError, match=message):
        QCLDPC5GDecoder(LDPC5GEncoder(128, 256), **arguments)
