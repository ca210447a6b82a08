"""`python -m loadforge.demo --port 0 --grpc-port 0`"""

import sys

from loadforge.demo.cli import main

sys.exit(main())
