"""``python -m reasoningtrack.cli`` (and ``accelerate launch -m reasoningtrack.cli ...``)."""

from . import main

main()
