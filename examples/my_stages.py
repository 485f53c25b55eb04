"""A plugin module: Sionna's own ``Scrambler`` as a linksim stage, in a few lines.

Load it with ``linksim run S.yaml --plugin my_stages`` (this folder on ``PYTHONPATH``), with
``linksim.load_scenario(path, plugins=["my_stages"])``, or from an installed package's entry point
(group ``linksim.components``). A scenario then uses ``{type: sionna_scrambler, seed: 42}``.
"""
from typing import Literal

from pydantic import Field

from linksim.engine.registry import register
from linksim.engine.stage import StageParams, make_stage


@register("stage", "sionna_scrambler")
class SionnaScrambler(StageParams):
    """Sionna's Scrambler on bits: XOR with a fixed pseudo-random sequence (the same stage again descrambles)."""

    type: Literal["sionna_scrambler"]
    seed: int = Field(default=42, ge=0, le=2**31 - 1)

    def build(self, context):
        from sionna.phy.fec.scrambling import Scrambler

        scrambler = Scrambler(seed=self.seed, keep_state=True, binary=True)
        return make_stage(self, scrambler, lambda bits, ctx: scrambler(bits))
