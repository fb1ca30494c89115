"""The DUTrack text path's tokenizer: BERT word-pieces, exactly 16 ids ([CLS] ... [SEP] [PAD]...).

Which BERT vocabulary the released checkpoints were trained with is ambiguous (the official YAML
points at a ``bert-base-cased`` folder, its README links ``bert-base-uncased``, and the 30522-row
embedding table has the uncased size). So the choice is explicit: ``vocab`` (a ``vocab.txt`` file,
a local tokenizer folder or a hub name) and ``lowercase``. With nothing given we use
``bert-base-uncased`` with lower-casing, the reading the reference fixture was produced with.
"""

from __future__ import annotations

import inspect
import logging
from functools import lru_cache
from pathlib import Path

from ..base import BackboneError

__all__ = ["TextTokenizer", "DEFAULT_HUB_TOKENIZER", "vocab_beside"]

log = logging.getLogger(__name__)

DEFAULT_HUB_TOKENIZER = "bert-base-uncased"
_OFFLINE_HINT = (
    "pass a BERT vocabulary explicitly, e.g. --backbone-opt vocab=/path/to/vocab-bert-base-uncased.txt "
    "(and lowercase=true; lowercase=false for a cased vocab), or a local tokenizer folder"
)


def vocab_beside(*files: str | Path | None, lowercase: bool | None = None) -> Path | None:
    """A vocabulary shipped next to a checkpoint or architecture file, so a checkpoint folder
    works offline without ``vocab=``: ``vocab.txt``, then ``vocab-bert-base-uncased.txt`` (or
    ``vocab-bert-base-cased.txt`` first when ``lowercase`` is False), in the order of ``files``."""
    names = ["vocab.txt", "vocab-bert-base-uncased.txt", "vocab-bert-base-cased.txt"]
    if lowercase is False:
        names = ["vocab.txt", "vocab-bert-base-cased.txt", "vocab-bert-base-uncased.txt"]
    for file in files:
        if file is None:
            continue
        folder = Path(str(file)).expanduser().parent
        for name in names:
            candidate = folder / name
            if candidate.is_file():
                return candidate
    return None


def _read_vocab(path: Path) -> dict[str, int]:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise BackboneError(f"cannot read BERT vocabulary {path}: {exc}") from exc
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    vocab: dict[str, int] = {}
    for number, token in enumerate(lines, start=1):
        token = token.rstrip("\r")
        if token in vocab:
            raise BackboneError(f"{path}:{number}: duplicate vocabulary entry {token!r}")
        vocab[token] = number - 1
    for special in ("[PAD]", "[UNK]", "[CLS]", "[SEP]"):
        if special not in vocab:
            raise BackboneError(f"{path}: not a BERT vocabulary (one word-piece per line): {special} is missing")
    return vocab


def _looks_cased(vocab: dict[str, int]) -> bool:
    """A cased BERT vocabulary holds capitalised whole words ("The"); an uncased one does not."""
    return any(word in vocab for word in ("The", "In", "He"))


def _from_vocab_file(path: Path, lowercase: bool):
    from transformers import BertTokenizerFast

    vocab = _read_vocab(path)
    params = inspect.signature(BertTokenizerFast.__init__).parameters
    if "vocab" in params:  # transformers >= 5: takes the mapping (a `vocab_file=` would be ignored)
        tok = BertTokenizerFast(vocab=vocab, do_lower_case=lowercase)
    else:
        tok = BertTokenizerFast(vocab_file=str(path), do_lower_case=lowercase)
    if len(tok) != len(vocab):
        raise BackboneError(f"{path}: the tokenizer holds {len(tok)} entries, the file {len(vocab)}")
    return tok


def _from_pretrained(name: str, lowercase: bool | None):
    from transformers import AutoTokenizer

    kwargs = {} if lowercase is None else {"do_lower_case": lowercase}
    try:
        return AutoTokenizer.from_pretrained(name, **kwargs)
    except (OSError, ValueError) as exc:
        raise BackboneError(f"cannot load the BERT tokenizer {name!r} ({exc.__class__.__name__}: {exc}); {_OFFLINE_HINT}") from exc


class TextTokenizer:
    """Turns a description into the fixed-length id window the network embeds."""

    def __init__(self, backend, max_tokens: int = 16, source: str = ""):
        self.backend = backend
        self.max_tokens = max_tokens
        self.source = source
        self._ids = lru_cache(maxsize=64)(self._compute_ids)

    @classmethod
    def from_options(cls, vocab: str | Path | None = None, lowercase: bool | None = None,
                     max_tokens: int = 16) -> "TextTokenizer":
        """``vocab``: a vocab.txt file, a tokenizer folder, a hub name, or None (bert-base-uncased).

        ``lowercase`` None means: lower-case unless the vocabulary file is a cased one.
        """
        if vocab is None:
            backend = _from_pretrained(DEFAULT_HUB_TOKENIZER, True if lowercase is None else lowercase)
            return cls(backend, max_tokens, DEFAULT_HUB_TOKENIZER)
        path = Path(str(vocab)).expanduser()
        if path.is_file():
            if lowercase is None:
                lowercase = not _looks_cased(_read_vocab(path))
                log.info("DUTrack tokenizer: %s read as %s", path, "uncased" if lowercase else "cased")
            return cls(_from_vocab_file(path, lowercase), max_tokens, str(path))
        if path.is_dir():
            return cls(_from_pretrained(str(path), lowercase), max_tokens, str(path))
        if path.suffix == ".txt" or str(vocab).startswith((".", "/", "~")) or str(vocab).count("/") > 1:
            raise BackboneError(f"BERT vocabulary file {vocab} does not exist; {_OFFLINE_HINT}")
        return cls(_from_pretrained(str(vocab), lowercase), max_tokens, str(vocab))

    @property
    def vocab_size(self) -> int:
        return len(self.backend)

    def _compute_ids(self, text: str) -> tuple[int, ...]:
        encoded = self.backend(
            [text], add_special_tokens=True, truncation=True, padding="max_length", max_length=self.max_tokens
        )
        return tuple(encoded["input_ids"][0])

    def ids(self, text: str | None) -> list[int]:
        """The ``max_tokens`` ids the network sees for ``text`` (None is the empty description)."""
        return list(self._ids(text or ""))

    def tokens(self, text: str | None) -> list[str]:
        """The word-pieces of the id window, special tokens included."""
        return self.backend.convert_ids_to_tokens(self.ids(text))

    def kept_text(self, text: str | None) -> str:
        """What survives the window: the decoded word-pieces without [CLS]/[SEP]/[PAD]."""
        return self.backend.decode(self.ids(text), skip_special_tokens=True)
