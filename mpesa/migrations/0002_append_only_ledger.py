from django.db import migrations

from core.migration_operations import AppendOnlyTable


class Migration(migrations.Migration):
    dependencies = [
        ("mpesa", "0001_initial"),
    ]

    operations = [
        AppendOnlyTable("mpesa_paymentevent"),
    ]
