"""``python -m attricam.training train|evaluate|cache ...``"""

import sys

from .cli import main

sys.exit(main())
