"""`python -m loadforge` is the `loadforge` command."""

import sys

from loadforge.cli import main

sys.exit(main())
