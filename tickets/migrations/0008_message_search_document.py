"""The search document of a message stored in a generated column, indexed instead of the expression.

With the document only in an expression index, every row search touches outside the index (the newest
messages scanned in order, rechecks, ranking) recomputed three text-search parses, tens of microseconds
each: at ten million messages that is what kept a word found in a few per cent of them above 200 ms.
Stored, a row's match is a lookup, so search can walk the newest messages in order and stop at enough
matches (tickets/search.py).

A generated column, so every writer (ORM, COPY, raw SQL) keeps it right without code; it stays out of
Django's model state like the 0004 indexes, and the embedded SQLite mode skips it. On an existing
PostgreSQL install ADD COLUMN ... STORED rewrites the table under an exclusive lock: about a minute per
million messages on two cores, so plan the upgrade of a large install for a quiet hour.
"""

from django.db import migrations

# The same document as 0004's expression index (tickets.search.MESSAGE_DOCUMENT; a test keeps them equal).
MESSAGE_DOCUMENT = (
    "(to_tsvector('simple'::regconfig, left(subject || ' ' || body, 100000))"
    " || to_tsvector('russian'::regconfig, left(subject || ' ' || body, 100000))"
    " || to_tsvector('english'::regconfig, left(subject || ' ' || body, 100000)))"
)
OLD_INDEX = f"CREATE INDEX IF NOT EXISTS msg_search_fts ON tickets_message USING gin ({MESSAGE_DOCUMENT})"
INDEX = "CREATE INDEX IF NOT EXISTS msg_search_document ON tickets_message USING gin (search_document)"

FORWARD = [
    "ALTER TABLE tickets_message ADD COLUMN IF NOT EXISTS search_document tsvector"
    f" GENERATED ALWAYS AS {MESSAGE_DOCUMENT} STORED",
    "DROP INDEX IF EXISTS msg_search_fts",
    INDEX,
]
BACKWARD = [
    OLD_INDEX,
    "DROP INDEX IF EXISTS msg_search_document",
    "ALTER TABLE tickets_message DROP COLUMN IF EXISTS search_document",
]


def _run(statements):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor != "postgresql":
            return
        for statement in statements:
            schema_editor.execute(statement)

    return run


class Migration(migrations.Migration):
    dependencies = [("tickets", "0007_saved_views")]

    operations = [migrations.RunPython(_run(FORWARD), _run(BACKWARD), elidable=False)]
