"""Cosine similarity of stored float32 embeddings to a query, as ``1 - (embedding <=> query)`` in pgvector.

pgvector computes ``dot / sqrt(|a|² · |b|²)`` over float4 vectors, clamps it to [-1, 1] and returns the distance
``1 - similarity`` as a double; the SQL the live path used to run took ``1 - distance``. Here the same steps run in
float64 on the float32 values: each row's products are summed in one fixed order that depends only on the row,
so equal vectors get bit-equal similarities (ties stay ties). pgvector sums in float32, so the two can differ in
the last digits (about 1e-7); a zero vector gives NaN in both.
"""

from __future__ import annotations

import numpy as np

#: Rows converted to float64 at a time (a 1,024 × 384 block is 3 MB).
BLOCK_ROWS = 1024


def squared_norms(vectors: np.ndarray) -> np.ndarray:
    """``|v|²`` of each float32 row, in float64."""
    out = np.empty(len(vectors), dtype=np.float64)
    for start in range(0, len(vectors), BLOCK_ROWS):
        block = vectors[start : start + BLOCK_ROWS].astype(np.float64)
        out[start : start + BLOCK_ROWS] = np.einsum("ij,ij->i", block, block)
    return out


def pgvector_cosine_similarities(
    vectors: np.ndarray, norms: np.ndarray, rows: np.ndarray, query: np.ndarray
) -> np.ndarray:
    """``1 - cosine_distance(vectors[rows], query)`` (float64) for the float32 ``vectors`` whose ``squared_norms``
    are ``norms``."""
    if query.shape != (vectors.shape[1],):
        raise ValueError(f"different vector dimensions {vectors.shape[1]} and {query.shape[-1]}")
    q = np.asarray(query, dtype=np.float32).astype(np.float64)
    dots = np.empty(len(rows), dtype=np.float64)
    for start in range(0, len(rows), BLOCK_ROWS):
        block = vectors[rows[start : start + BLOCK_ROWS]].astype(np.float64)
        dots[start : start + BLOCK_ROWS] = np.einsum("ij,j->i", block, q)
    with np.errstate(divide="ignore", invalid="ignore"):
        similarity = dots / np.sqrt(norms[rows] * np.einsum("i,i->", q, q))
    similarity = np.clip(similarity, -1.0, 1.0)  # NaN stays NaN
    return 1.0 - (1.0 - similarity)
