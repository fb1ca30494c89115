"""Benchmarks behind one registry: ``DATASETS.build(name, root=..., split=...)``."""

from .base import DATASETS, Dataset, DatasetError, Sequence, read_rgb

__all__ = ["DATASETS", "Dataset", "DatasetError", "Sequence", "read_rgb"]

# Built-in benchmarks (lazy: a module is imported when its dataset is first used).
DATASETS.register("tnllt", "reasoningtrack.datasets.tnllt:TNLLT", help="TNLLT (200 long sequences, 150 train / 50 test)")
DATASETS.register("tnl2k", "reasoningtrack.datasets.tnl2k:TNL2K", help="TNL2K (dataset root or the toolkit's annos/)")
DATASETS.register("lasot", "reasoningtrack.datasets.lasot:LaSOT", help="LaSOT (dataset root or the toolkit's annos/)")
DATASETS.register("lasot-ext", "reasoningtrack.datasets.lasot_ext:LaSOTExt", help="LaSOT extension subset (150 sequences)")
DATASETS.register("lasot_ext", "reasoningtrack.datasets.lasot_ext:LaSOTExt", help="alias of lasot-ext")
DATASETS.register("otb-lang", "reasoningtrack.datasets.otb_lang:OTBLang", help="OTB99-Lang (OTB-100 videos with sentences)")
DATASETS.register("otb_lang", "reasoningtrack.datasets.otb_lang:OTBLang", help="alias of otb-lang")
DATASETS.register("got10k", "reasoningtrack.datasets.got10k:GOT10k", help="GOT-10k")
DATASETS.register("folder", "reasoningtrack.datasets.folder:FolderDataset", help="folders of frames + groundtruth.txt")
DATASETS.register("synthetic", "reasoningtrack.datasets.synthetic:SyntheticDataset", help="the synthetic world (TNLLT layout)")
