"""The scenarios shipped with linksim (YAML files, installed as ``linksim.scenarios`` package data).

``linksim list scenarios`` names them; ``linksim run quickstart`` or ``linksim.load_scenario("quickstart")``
runs one by name from any folder.
"""
