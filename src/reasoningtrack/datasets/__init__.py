"""Benchmarks behind one registry: ``DATASETS.build(name, root=..., split=...)``."""

from .base import DATASETS, Dataset, DatasetError, Sequence, read_rgb

__all__ = ["DATASETS", "Dataset", "DatasetError", "Sequence", "read_rgb"]
