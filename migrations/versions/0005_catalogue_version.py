"""A version number of the grant catalogue, bumped by every statement that changes grants.

Processes keep the catalogue's parsed attributes in memory (graphql_app.services.grant_matching.CatalogueCache)
and reload them when this number moves: one primary-key read per scoring instead of scanning the table.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-05
"""

from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("CREATE TABLE catalogue_version (id integer PRIMARY KEY CHECK (id = 1), version bigint NOT NULL)")
    op.execute("INSERT INTO catalogue_version (id, version) VALUES (1, 1)")
    op.execute(
        """
        CREATE FUNCTION bump_catalogue_version() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            UPDATE catalogue_version SET version = version + 1 WHERE id = 1;
            RETURN NULL;
        END $$
        """
    )
    op.execute(
        "CREATE TRIGGER grants_bump_catalogue_version AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON grants "
        "FOR EACH STATEMENT EXECUTE FUNCTION bump_catalogue_version()"
    )


def downgrade() -> None:
    op.execute("DROP TRIGGER grants_bump_catalogue_version ON grants")
    op.execute("DROP FUNCTION bump_catalogue_version()")
    op.execute("DROP TABLE catalogue_version")
