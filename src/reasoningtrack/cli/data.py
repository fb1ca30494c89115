"""`reasoningtrack` commands: data."""

from ._apps import app, data_app, dev_app, train_app  # noqa: F401
