"""``python -m linksim``: the ``linksim`` command."""
import sys

from linksim.cli import main

sys.exit(main())
