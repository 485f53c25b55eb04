"""Which (k, n) Sionna's 5G NR LDPC and Polar encoders accept, written out so that validating a
scenario needs no TensorFlow (tests/test_coding.py checks it against constructing the encoders)."""

__all__ = ["CODES", "code_error"]

CODES = ("ldpc", "polar")
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
