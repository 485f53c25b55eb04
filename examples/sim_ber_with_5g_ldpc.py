"""linksim's PHY blocks inside a plain Sionna study: Gray 16-QAM over AWGN, uncoded and with Sionna's 5G
LDPC code, simulated by Sionna's ``sim_ber`` and collected by ``PlotBER``, beside linksim's exact BER.

    python examples/sim_ber_with_5g_ldpc.py
"""
import numpy as np
from sionna.phy import Block
from sionna.phy.fec.ldpc import LDPC5GDecoder, LDPC5GEncoder
from sionna.phy.mapping import BinarySource, Demapper, Mapper
from sionna.phy.utils import PlotBER, ebnodb2no

from linksim.phy import AWGN, SlicerDemapper, ber_awgn, make_constellation


class QAM16Link(Block):
    """bits [→ 5G LDPC] → Gray 16-QAM → AWGN → (slicer | APP demapper → BP decoding) → bits."""

    def __init__(self, k=None, n=None):
        super().__init__()
        constellation = make_constellation("qam16")  # linksim: a unit-energy Sionna Constellation
        self.k, self.n = k, n
        self.source, self.mapper, self.channel = BinarySource(), Mapper(constellation=constellation), AWGN()
        if k is None:
            self.detector = SlicerDemapper(constellation=constellation)  # linksim's exact hard slicer
        else:
            self.encoder = LDPC5GEncoder(k, n)
            self.decoder = LDPC5GDecoder(self.encoder, hard_out=True, num_iter=20)
            self.demapper = Demapper("app", constellation=constellation)

    def call(self, batch_size, ebno_db):
        coded = self.k is not None
        no = ebnodb2no(ebno_db, 4, self.k / self.n if coded else 1.0)
        bits = self.source([batch_size, self.k if coded else 1024])
        received = self.channel(self.mapper(self.encoder(bits) if coded else bits), no)
        return bits, self.decoder(self.demapper(received, no)) if coded else self.detector(received)


def main(batch_size=200, max_mc_iter=20):
    ebno = np.arange(0.0, 6.1, 1.0)
    plot = PlotBER("Gray 16-QAM over AWGN: linksim blocks in sim_ber")
    uncoded, _ = plot.simulate(QAM16Link(), ebno, batch_size, max_mc_iter, legend="uncoded",  # every point: batch × iterations blocks
                               soft_estimates=False, show_fig=False, verbose=False)
    coded, _ = plot.simulate(QAM16Link(512, 1024), ebno, batch_size, max_mc_iter, num_target_block_errors=100,
                             legend="5G LDPC (1024, 512)", soft_estimates=False, show_fig=False, verbose=False)
    exact = ber_awgn("qam16", ebno, "ebno")
    for snr, u, x, c in zip(ebno, uncoded.numpy(), exact, coded.numpy()):
        print(f"Eb/N0 {snr:3.1f} dB  uncoded {u:.4e} (exact {x:.4e})  LDPC {c:.4e}")
    return ebno, uncoded.numpy(), exact, coded.numpy()


if __name__ == "__main__":
    main()
