"""Running scenarios: training the learned stages (:mod:`.training`) with their checkpoint store
(:mod:`.checkpoints`), and the Monte Carlo sweep (:mod:`.montecarlo`) in this process or on Ray
workers (:mod:`.ray_executor`).

Imports the scenario package, the engine and (through built links) the components; never the
output package: progress and figures come in from outside (callbacks, reporters). A new executor
(where chunks run) goes here.
"""
