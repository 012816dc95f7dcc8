"""``python -m knowledge.fixture_schema [fixtures]`` prints every problem of the fixtures."""

import sys

from .validation import main

sys.exit(main(sys.argv[1:]))
