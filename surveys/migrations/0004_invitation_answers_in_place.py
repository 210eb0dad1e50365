"""Answering a survey updates its invitation in place (HOT) instead of adding to every index.

An answer sets `status` and `answered_at`. While an index mentioned `status` (as a key or in a partial
index's condition), PostgreSQL had to write a new row version into all eleven indexes of the table for
each answer: most of the WAL a survey blast wrote. Now no index mentions it, and the fill factor leaves
a tenth of each page free for the new version to stay on the same page. Existing pages fill up only as
they are rewritten; new invitations get the room. The customer's own index goes too:
invitation_customer_sent leads with the same column.
"""

import django.db.models.deletion
from django.db import migrations, models


def _fillfactor(value: int):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(f"ALTER TABLE surveys_invitation SET (fillfactor = {int(value)})")

    return run


class Migration(migrations.Migration):
    dependencies = [("surveys", "0003_invitation_token_constraint"), ("profiles", "0003_identity_match_key")]

    operations = [
        migrations.RemoveIndex(model_name="invitation", name="invitation_open_by_sender"),
        migrations.RemoveIndex(model_name="invitation", name="invitation_due"),
        migrations.AddIndex(
            model_name="invitation",
            index=models.Index(fields=["channel", "recipient", "-sent_at"], name="invitation_by_sender"),
        ),
        migrations.AddIndex(
            model_name="invitation",
            index=models.Index(
                condition=models.Q(("send_at__isnull", False), ("sent_at__isnull", True)),
                fields=["send_at"],
                name="invitation_waiting",
            ),
        ),
        migrations.AlterField(
            model_name="invitation",
            name="customer",
            field=models.ForeignKey(
                blank=True,
                db_index=False,
                null=True,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="survey_invitations",
                to="profiles.customer",
                verbose_name="customer",
            ),
        ),
        migrations.RunPython(_fillfactor(90), _fillfactor(100), elidable=False),
    ]
