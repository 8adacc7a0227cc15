"""The GraphQL schema: the root types and the Schema object (``schema.root``), one module per type
(``schema.types``), inputs, enums, scalars, connections, permissions and extensions."""
