"""``python -m hub_engine`` is the ``hub`` command."""

import sys

from hub_engine.cli import main

sys.exit(main())
