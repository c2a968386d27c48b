"""Booking events refuse TRUNCATE as they refuse UPDATE and DELETE (PostgreSQL)."""

from django.db import migrations

from core.migration_operations import RefuseTruncate


class Migration(migrations.Migration):
    dependencies = [
        ("reservations", "0004_blocking_stays_covering_index"),
    ]

    operations = [
        RefuseTruncate("reservations_bookingevent"),
    ]
