"""Full-text and trigram search indexes (see tickets/search.py for the queries that use them).

Everything is raw SQL on PostgreSQL only: the indexes are on expressions Django's model state does not
describe, so `makemigrations` stays quiet, and the embedded SQLite mode skips them (search there falls back
to plain LIKE). Plain CREATE INDEX, not CONCURRENTLY: a migration runs in a transaction, and on an empty
database this takes milliseconds. A large existing install can pre-create the same indexes CONCURRENTLY
by hand; IF NOT EXISTS makes this migration accept them.
"""

from django.db import migrations

# Must stay identical, character for character, to tickets.search.MESSAGE_DOCUMENT, or the planner will
# not match the index (tests/tickets/test_search.py checks with EXPLAIN).
MESSAGE_DOCUMENT = (
    "(to_tsvector('simple'::regconfig, left(subject || ' ' || body, 100000))"
    " || to_tsvector('russian'::regconfig, left(subject || ' ' || body, 100000))"
    " || to_tsvector('english'::regconfig, left(subject || ' ' || body, 100000)))"
)
MESSAGE_TEXT = "(subject || ' ' || body)"

FORWARD = [
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    f"CREATE INDEX IF NOT EXISTS msg_search_fts ON tickets_message USING gin ({MESSAGE_DOCUMENT})",
    f"CREATE INDEX IF NOT EXISTS msg_search_trgm ON tickets_message USING gin ({MESSAGE_TEXT} gin_trgm_ops)",
    # Search looks at recent weeks first (tickets/search.py), and substring search pages by recency.
    "CREATE INDEX IF NOT EXISTS msg_search_created ON tickets_message (created_at)",
    "CREATE INDEX IF NOT EXISTS customer_name_trgm ON profiles_customer USING gin (name gin_trgm_ops)",
    "CREATE INDEX IF NOT EXISTS customer_company_trgm ON profiles_customer USING gin (company gin_trgm_ops)",
    "CREATE INDEX IF NOT EXISTS identity_value_trgm ON profiles_identity USING gin (value gin_trgm_ops)",
]
BACKWARD = [
    "DROP INDEX IF EXISTS identity_value_trgm",
    "DROP INDEX IF EXISTS customer_company_trgm",
    "DROP INDEX IF EXISTS customer_name_trgm",
    "DROP INDEX IF EXISTS msg_search_created",
    "DROP INDEX IF EXISTS msg_search_trgm",
    "DROP INDEX IF EXISTS msg_search_fts",
    # Other apps may rely on pg_trgm by then; dropping it is only safe when nothing else uses it.
    "DROP EXTENSION IF EXISTS pg_trgm RESTRICT",
]


def _run(statements):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor != "postgresql":
            return
        for statement in statements:
            schema_editor.execute(statement)

    return run


class Migration(migrations.Migration):
    dependencies = [
        ("tickets", "0003_inbox_work"),
        ("profiles", "0001_initial"),
    ]

    operations = [migrations.RunPython(_run(FORWARD), _run(BACKWARD), elidable=False)]
