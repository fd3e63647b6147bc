"""``python -m raysweep.evaluate``: the evaluation CLI (``raysweep/evaluation/__main__.py``)."""

import sys

from raysweep.evaluation.__main__ import main

if __name__ == "__main__":
    sys.exit(main())
