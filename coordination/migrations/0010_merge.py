"""Joins the schema changes that were made side by side (lägesbild, EST loop, citizen dialogue, accounts)."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("coordination", "0009_est_loop"),
        ("coordination", "0009_lagesbild_data"),
        ("coordination", "0009_dialogue"),
    ]

    operations = []
