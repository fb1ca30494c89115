"""Session fixtures: the real LaSOT / TNL2K annotations and LaSOT raw results, extracted once
from the archives in ``shared/data`` into the session's temporary folder."""

from __future__ import annotations

import tarfile
from pathlib import Path

import pytest

EXPECTED_TRACKERS = ("ATOM", "DiMP50", "SiamRPN++")


def _extract(archive: Path, dest: Path) -> Path:
    dest.mkdir(parents=True, exist_ok=True)
    with tarfile.open(archive) as tar:
        tar.extractall(dest, filter="data")
    return dest


@pytest.fixture(scope="session")
def lasot_annos(shared_data, tmp_path_factory) -> Path:
    """The toolkit's LaSOT test annotations (``<seq>.txt``, ``absent/``, ``att/``, ``nlp/``)."""
    root = _extract(shared_data / "lasot" / "lasot_test_annos.tar.xz", tmp_path_factory.mktemp("lasot_annos"))
    return root / "lasot_test_annos"


@pytest.fixture(scope="session")
def lasot_testing_set(shared_data) -> Path:
    return shared_data / "lasot" / "testing_set.txt"


@pytest.fixture(scope="session")
def lasot_raw(shared_data, tmp_path_factory) -> Path:
    """``<root>/<Tracker>/<seq>.txt`` for the trackers with published values in EXPECTED.md."""
    dest = tmp_path_factory.mktemp("lasot_raw")
    for tracker in EXPECTED_TRACKERS:
        _extract(shared_data / "lasot" / "raw_results" / f"{tracker}.tar.xz", dest)
    return dest / "LASOT"


@pytest.fixture(scope="session")
def tnl2k_annos(shared_data, tmp_path_factory) -> Path:
    """The TNL2K toolkit's ``annos/`` folder (``gt_rect/``, ``absent/``, ``att/``)."""
    root = _extract(shared_data / "tnl2k" / "annos.tar.gz", tmp_path_factory.mktemp("tnl2k_annos"))
    return root / "annos"


@pytest.fixture(scope="session")
def lasot_dataset(lasot_annos, lasot_testing_set):
    from reasoningtrack.datasets import DATASETS

    return DATASETS.build("lasot", root=lasot_annos, split_file=lasot_testing_set)


@pytest.fixture(scope="session")
def lasot_sequences(lasot_dataset):
    return list(lasot_dataset)


@pytest.fixture(scope="session")
def tnl2k_sequences(tnl2k_annos, shared_data):
    from reasoningtrack.datasets import DATASETS

    ds = DATASETS.build("tnl2k", root=tnl2k_annos, split_file=shared_data / "tnl2k" / "TNL2K_testing_set.txt")
    return list(ds)
