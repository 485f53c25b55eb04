"""What a run leaves: the self-describing HDF5 results file (:mod:`.results`), tables, CSV and
comparisons (:mod:`.report`), plots (:mod:`.plot`) and the figures a scenario's components declare
(:mod:`.figures`).

Imports the engine and reads the run package's objects (a runner's links for the figures); the
command line imports it. A new table or figure goes here.
"""
