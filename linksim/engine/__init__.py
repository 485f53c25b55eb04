"""The engine's core: what every other part of linksim builds on.

Here: the registry of scenario components (:mod:`.registry`), the base of stage parameter models
and the runtime stage (:mod:`.stage`), the link that chains stages and records taps
(:mod:`.link`), per-point statistics and intervals (:mod:`.statistics`) and the errors the command
line turns into exit codes (:mod:`.errors`). It names no component, domain or research system.
It may import ``linksim.phy``; everything else in linksim may import it, it imports nothing of
theirs.
"""
