"""The ``reasoningtrack`` command line. Each command lives in its own module; heavy libraries are
imported inside the commands so that ``--help`` stays instant."""

from ._apps import app
from . import data, dev, evaluate, listing, tracking, training  # noqa: F401  (modules register their commands)
from . import experiments  # noqa: F401,E402
from . import demo  # noqa: F401,E402

__all__ = ["app", "main"]


def main() -> None:
    app()
