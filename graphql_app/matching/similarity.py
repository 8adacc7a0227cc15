"""Cosine similarity of stored float32 embeddings to a query, as ``1 - (embedding <=> query)`` gives it in pgvector.

The grant → companies fan-out computes the cosine in pgvector and the company side here, and a (company, grant)
pair must score identically either way, so this follows pgvector's arithmetic step by step rather than its
formula only. pgvector 0.6 (``cosine_distance`` in ``vector.so`` as pgserver ships it, built for AVX2 with fused
multiply-adds) sums ``a·b``, ``|a|²`` and ``|b|²`` in float32: eight lanes of fused multiply-adds over the first
``dim // 8 · 8`` entries, the lanes added as ``((l0+l4) + (l2+l6)) + ((l1+l5) + (l3+l7))``; for a remainder of 4–7
entries, four rounded products added as ``(p0+p2) + (p1+p3)``; then fused multiply-adds one entry at a time.
``dot / sqrt(|a|² · |b|²)`` is then taken in float64 and clamped to [-1, 1]; the SQL took ``1 - distance``.

Here each float32 product is exact in float64 and each fused multiply-add is the float64 sum rounded to float32.
That equals the fused operation except when the float64 sum falls exactly on a float32 rounding midpoint (about
once in 10⁸ operations), where the last bit of one partial sum can differ. A pgvector built or versioned
differently sums in another order: the results then differ in the last digits (about 1e-7).
``tests/api/test_live_catalogue.py`` checks equality with the test server's pgvector. Equal vectors always get
bit-equal similarities (every row is summed the same way), so ties stay ties.
"""

from __future__ import annotations

import numpy as np

#: Rows whose products are held in float64 at a time (2,048 × 384 is 6 MB).
BLOCK_ROWS = 2048
LANES = 8


def pgvector_dots(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Each float32 row of ``a`` dotted with ``b`` (the rows of ``a`` again, or one float32 vector), in float32 and
    in pgvector's order. Every float32 product is exact in float64."""
    n, dim = a.shape
    blocks = dim // LANES
    wide = blocks * LANES
    total = np.zeros(n, dtype=np.float32)
    if blocks:
        a_steps = a[:, :wide].reshape(n, blocks, LANES).transpose(1, 0, 2)
        if b.ndim == 1:
            b_steps = b[:wide].reshape(blocks, 1, LANES)
        else:
            b_steps = b[:, :wide].reshape(n, blocks, LANES).transpose(1, 0, 2)
        products = np.multiply(a_steps, b_steps, out=np.empty((blocks, n, LANES)), dtype=np.float64)
        lanes = np.zeros((n, LANES), dtype=np.float64)
        rounded = np.empty((n, LANES), dtype=np.float32)
        for step in products:
            np.add(lanes, step, out=lanes)
            rounded[...] = lanes  # rounded to float32 once: a fused multiply-add
            lanes[...] = rounded
        halves = rounded[:, :4] + rounded[:, 4:]
        total = (halves[:, 0] + halves[:, 2]) + (halves[:, 1] + halves[:, 3])
    rest = a[:, wide:].astype(np.float64) * b[..., wide:].astype(np.float64)
    start = 0
    if dim - wide >= 4:
        four = rest[:, :4].astype(np.float32)  # plain products, rounded
        total = total + ((four[:, 0] + four[:, 2]) + (four[:, 1] + four[:, 3]))
        start = 4
    for i in range(start, dim - wide):
        total = (total.astype(np.float64) + rest[:, i]).astype(np.float32)
    return total


def squared_norms(vectors: np.ndarray) -> np.ndarray:
    """``|v|²`` of each float32 row, summed as pgvector sums it (float32)."""
    out = np.empty(len(vectors), dtype=np.float32)
    for start in range(0, len(vectors), BLOCK_ROWS):
        block = vectors[start : start + BLOCK_ROWS]
        out[start : start + BLOCK_ROWS] = pgvector_dots(block, block)
    return out


def pgvector_query_dots(vectors: np.ndarray, rows: np.ndarray, query: np.ndarray) -> tuple[np.ndarray, float]:
    """The float32 dot products of ``vectors[rows]`` with ``query``, and ``|query|²``, summed as pgvector sums
    them: the expensive half of :func:`pgvector_cosine_similarities`, which :func:`cosine_from_dots` completes."""
    if query.shape != (vectors.shape[1],):
        raise ValueError(f"different vector dimensions {vectors.shape[1]} and {query.shape[-1]}")
    q = np.asarray(query, dtype=np.float32)
    query_norm = float(pgvector_dots(q[np.newaxis, :], q)[0])
    dots = np.empty(len(rows), dtype=np.float32)
    for start in range(0, len(rows), BLOCK_ROWS):
        dots[start : start + BLOCK_ROWS] = pgvector_dots(vectors[rows[start : start + BLOCK_ROWS]], q)
    return dots, query_norm


def cosine_from_dots(dots: np.ndarray, norms: np.ndarray, query_norm: float) -> np.ndarray:
    """``1 - distance`` (float64) from :func:`pgvector_query_dots`' values and the rows' ``squared_norms``."""
    with np.errstate(divide="ignore", invalid="ignore"):
        similarity = dots.astype(np.float64) / np.sqrt(norms.astype(np.float64) * query_norm)
    similarity = np.clip(similarity, -1.0, 1.0)  # NaN (a zero vector) stays NaN
    return 1.0 - (1.0 - similarity)


def pgvector_cosine_similarities(
    vectors: np.ndarray, norms: np.ndarray, rows: np.ndarray, query: np.ndarray
) -> np.ndarray:
    """``1 - (vectors[rows] <=> query)`` (float64) for the float32 ``vectors`` whose ``squared_norms`` are
    ``norms``."""
    dots, query_norm = pgvector_query_dots(vectors, rows, query)
    return cosine_from_dots(dots, norms[rows], query_norm)
