"""``python -m tierlib.cli``: the same as the ``tierlib`` command."""

import sys

from tierlib.cli import main

sys.exit(main())
