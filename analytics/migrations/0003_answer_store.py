# The answer side of the reporting store (analytics/answer_models.py).

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("analytics", "0002_reporting_store"),
    ]

    operations = [
        migrations.CreateModel(
            name="AnswerCell",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "grain",
                    models.CharField(choices=[("h", "hour"), ("d", "day"), ("m", "month")], max_length=1),
                ),
                ("period_start", models.DateTimeField()),
                ("survey_id", models.IntegerField()),
                ("channel_id", models.IntegerField(null=True)),
                ("team_id", models.IntegerField(null=True)),
                ("agent_id", models.IntegerField(null=True)),
                ("medium", models.CharField(blank=True, max_length=16)),
                ("language", models.CharField(blank=True, max_length=8)),
                ("s0", models.IntegerField(default=0)),
                ("s1", models.IntegerField(default=0)),
                ("s2", models.IntegerField(default=0)),
                ("s3", models.IntegerField(default=0)),
                ("s4", models.IntegerField(default=0)),
                ("s5", models.IntegerField(default=0)),
                ("s6", models.IntegerField(default=0)),
                ("s7", models.IntegerField(default=0)),
                ("s8", models.IntegerField(default=0)),
                ("s9", models.IntegerField(default=0)),
                ("s10", models.IntegerField(default=0)),
                ("comments", models.IntegerField(default=0)),
            ],
            options={
                "indexes": [
                    models.Index(fields=["grain", "period_start", "survey_id"], name="answercell_period")
                ],
            },
        ),
        migrations.CreateModel(
            name="AnswerFact",
            fields=[
                ("response_id", models.BigIntegerField(primary_key=True, serialize=False)),
                ("created_at", models.DateTimeField()),
                ("survey_id", models.IntegerField()),
                ("channel_id", models.IntegerField(null=True)),
                ("team_id", models.IntegerField(null=True)),
                ("agent_id", models.IntegerField(null=True)),
                ("conversation_id", models.IntegerField(null=True)),
                ("customer_id", models.IntegerField(null=True)),
                ("medium", models.CharField(blank=True, max_length=16)),
                ("language", models.CharField(blank=True, max_length=8)),
                ("score", models.SmallIntegerField()),
                ("has_comment", models.BooleanField(default=False)),
            ],
            options={
                "indexes": [
                    models.Index(fields=["created_at"], name="answerfact_created"),
                    models.Index(fields=["conversation_id"], name="answerfact_conversation"),
                    models.Index(fields=["customer_id"], name="answerfact_customer"),
                    models.Index(fields=["survey_id", "created_at"], name="answerfact_survey_created"),
                ],
            },
        ),
    ]
