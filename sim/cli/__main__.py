"""``python -m sim.cli``: the same as the ``sim`` command."""

import sys

from . import main

sys.exit(main())
