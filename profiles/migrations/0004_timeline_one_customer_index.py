"""The timeline's customer column keeps one index, timeline_by_customer, which leads with it: the
second, single-column one only made every message, event and answer write slower."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('profiles', '0003_identity_match_key'),
    ]

    operations = [
        migrations.AlterField(
            model_name='timelineentry',
            name='customer',
            field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='timeline', to='profiles.customer'),
        ),
    ]
