"""Print the path of a shipped config: ``python -m reasoningtrack.training.configs zero2``."""

import sys

from . import config_names, config_path

if len(sys.argv) != 2:
    sys.exit(f"usage: python -m reasoningtrack.training.configs NAME  (one of {config_names()}, or ddp/zero2/zero3)")
try:
    print(config_path(sys.argv[1]))
except FileNotFoundError as err:
    sys.exit(str(err))
