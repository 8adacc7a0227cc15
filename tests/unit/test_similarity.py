"""The in-memory cosine follows pgvector's definition, and equal vectors tie exactly wherever they sit."""

from __future__ import annotations

import numpy as np
import pytest

from graphql_app.matching.similarity import BLOCK_ROWS, pgvector_cosine_similarities, squared_norms


def _vectors(n: int, d: int = 384, seed: int = 7) -> np.ndarray:
    rng = np.random.default_rng(seed)
    vectors = rng.standard_normal((n, d)).astype(np.float32)
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


def test_close_to_the_definition_in_float64():
    vectors = _vectors(50)
    query = _vectors(1, seed=8)[0]
    rows = np.arange(50)
    got = pgvector_cosine_similarities(vectors, squared_norms(vectors), rows, query)
    v, q = vectors.astype(np.float64), query.astype(np.float64)
    expected = (v @ q) / np.sqrt((v * v).sum(axis=1) * (q @ q))
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-6)  # float32 sums, as pgvector
    subset = np.array([3, 17, 42])
    assert pgvector_cosine_similarities(vectors, squared_norms(vectors), subset, query).tolist() == got[subset].tolist()


def test_equal_vectors_get_bit_equal_similarities_in_every_position():
    n = 2 * BLOCK_ROWS + 5
    vectors = _vectors(n)
    twin = vectors[11].copy()
    positions = [0, 1, 2, 3, BLOCK_ROWS - 1, BLOCK_ROWS, 2 * BLOCK_ROWS + 1, n - 2, n - 1]
    vectors[positions] = twin
    query = _vectors(1, seed=9)[0]
    got = pgvector_cosine_similarities(vectors, squared_norms(vectors), np.arange(n), query)
    assert len(set(got[positions].tolist())) == 1
    odd = np.arange(1, n, 2)  # other row selections, so other block boundaries
    picked = pgvector_cosine_similarities(vectors, squared_norms(vectors), odd, query)
    assert set(picked[np.isin(odd, positions)].tolist()) == {got[positions[0]]}


def test_zero_vectors_give_nan_and_the_range_is_clamped():
    vectors = np.zeros((2, 3), dtype=np.float32)
    vectors[1] = [1, 0, 0]
    got = pgvector_cosine_similarities(vectors, squared_norms(vectors), np.arange(2), np.array([2, 0, 0], np.float32))
    assert np.isnan(got[0]) and got[1] == 1.0


def test_a_query_of_another_dimension_is_refused_as_pgvector_does():
    vectors = _vectors(2, d=4)
    with pytest.raises(ValueError, match="different vector dimensions"):
        pgvector_cosine_similarities(vectors, squared_norms(vectors), np.arange(2), np.ones(3, np.float32))
