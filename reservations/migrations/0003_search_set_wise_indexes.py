"""A GiST index over the stays of blocking bookings: search finds the bookings that overlap a stay across all
listings without reading every later booking. PostgreSQL only; SQLite (local runs) searches without it."""

import django.contrib.postgres.fields.ranges
import django.contrib.postgres.indexes
from django.db import migrations, models

import reservations.models
from core.migration_operations import AddIndexPostgresOnly


class Migration(migrations.Migration):
    dependencies = [
        ("reservations", "0002_no_double_booking"),
    ]

    operations = [
        AddIndexPostgresOnly(
            model_name="booking",
            index=django.contrib.postgres.indexes.GistIndex(
                reservations.models.DateRange(
                    "check_in", "check_out", django.contrib.postgres.fields.ranges.RangeBoundary()
                ),
                condition=models.Q(("status__in", ["held", "awaiting_payment", "confirmed"])),
                name="booking_blocking_stays",
            ),
        ),
    ]
