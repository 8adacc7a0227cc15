"""Root-field resolvers by area, and the per-request DataLoaders in ``loaders/``."""
