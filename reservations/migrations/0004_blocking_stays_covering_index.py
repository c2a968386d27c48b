"""The GiST index over the stays of blocking bookings carries the listing, the hold's end and the stay's dates,
so search reads the overlapping bookings from the index alone instead of visiting each booking row."""

import django.contrib.postgres.fields.ranges
import django.contrib.postgres.indexes
from django.db import migrations, models

import reservations.models
from core.migration_operations import AddIndexPostgresOnly, RemoveIndexPostgresOnly


class Migration(migrations.Migration):
    dependencies = [
        ("reservations", "0003_search_set_wise_indexes"),
    ]

    operations = [
        RemoveIndexPostgresOnly(model_name="booking", name="booking_blocking_stays"),
        AddIndexPostgresOnly(
            model_name="booking",
            index=django.contrib.postgres.indexes.GistIndex(
                reservations.models.DateRange(
                    "check_in", "check_out", django.contrib.postgres.fields.ranges.RangeBoundary()
                ),
                condition=models.Q(("status__in", ["held", "awaiting_payment", "confirmed"])),
                include=("listing", "blocks_until", "check_in", "check_out"),
                name="booking_blocking_stays",
            ),
        ),
    ]
