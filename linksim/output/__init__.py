"""What a run leaves: the self-describing HDF5 results file (:mod:`.results`), tables and CSV
(:mod:`.report`), comparisons of curves at equal SNR, at equal power and at a target
(:mod:`.comparison`), plots (:mod:`.plot`), the figures a scenario's components declare
(:mod:`.figures`) and the training log (:mod:`.training_log`).

Imports the engine and reads the run package's objects (a runner's links for the figures); the
command line imports it. A new table or figure goes here.
"""
