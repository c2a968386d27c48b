"""PostgreSQL guarantees: no two blocking bookings of one listing overlap; booking events are append-only.

SQLite (local runs) keeps the same rules through the listing lock and the checks in reservations.services.
"""

import django.contrib.postgres.constraints
import django.contrib.postgres.fields.ranges
from django.contrib.postgres.operations import BtreeGistExtension
from django.db import migrations, models

import reservations.models
from core.migration_operations import AddConstraintPostgresOnly, AppendOnlyTable


class Migration(migrations.Migration):
    dependencies = [
        ("reservations", "0001_initial"),
    ]

    operations = [
        BtreeGistExtension(),
        AddConstraintPostgresOnly(
            model_name="booking",
            constraint=django.contrib.postgres.constraints.ExclusionConstraint(
                condition=models.Q(("status__in", ["held", "awaiting_payment", "confirmed"])),
                expressions=[
                    ("listing", "="),
                    (
                        reservations.models.DateRange(
                            "check_in", "check_out", django.contrib.postgres.fields.ranges.RangeBoundary()
                        ),
                        "&&",
                    ),
                ],
                name="no_overlapping_blocking_bookings",
            ),
        ),
        AppendOnlyTable("reservations_bookingevent"),
    ]
