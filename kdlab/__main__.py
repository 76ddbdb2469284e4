"""``python -m kdlab``: see kdlab.cli."""

import sys

from kdlab.cli import main

sys.exit(main())
