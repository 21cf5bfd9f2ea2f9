"""Joins the schema changes that were made side by side (lägesbild, EST loop, citizen dialogue, accounts)."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("coordination", "0009_est_loop"),
        ("coordination", "0009_lagesbild_data"),
        ("coordination", "0009_dialogue"),
        ("coordination", "0009_accounts"),
    ]

    # The invitation's role takes the dialogue officer's role, added on the other side.
    operations = [
        migrations.AlterField(
            model_name="invitation",
            name="role",
            field=models.CharField(
                choices=[
                    ("field", "Fältpersonal"),
                    ("duty", "Jour"),
                    ("association", "Förening"),
                    ("partner", "Partner"),
                    ("admin", "Administratör"),
                    ("dialogue", "Dialoghandläggare"),
                ],
                max_length=20,
                verbose_name="roll",
            ),
        ),
    ]
