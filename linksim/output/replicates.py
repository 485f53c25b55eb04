"""Names of replicated curves in results files: ``<curve>#r<k>`` for replicate ``k`` of ``<curve>``."""
import re

__all__ = ["REPLICATE", "replicate_groups"]

REPLICATE = re.compile(r"^(?P<base>.+)#r(?P<index>\d+)$")  # a replicate's results curve: <curve>#r<k>


def replicate_groups(names) -> dict[str, list[str]]:
    """``{curve: [its results curves]}``: replicates ``c#r0, c#r1, ...`` grouped under ``c``, others alone."""
    groups: dict[str, list[str]] = {}
    for name in names:
        found = REPLICATE.match(name)
        groups.setdefault(found.group("base") if found else name, []).append(name)
    return groups
