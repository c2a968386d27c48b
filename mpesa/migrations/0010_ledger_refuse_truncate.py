"""The append-only tables refuse TRUNCATE as they refuse UPDATE and DELETE (PostgreSQL)."""

from django.db import migrations

from core.migration_operations import RefuseTruncate


class Migration(migrations.Migration):
    dependencies = [
        ("mpesa", "0009_paymentevent_raw_bytes"),
    ]

    operations = [
        RefuseTruncate("mpesa_paymentevent"),
        RefuseTruncate("mpesa_supportaction"),
        RefuseTruncate("mpesa_attentionresolution"),
        RefuseTruncate("mpesa_unmatchedcallbacklink"),
    ]
