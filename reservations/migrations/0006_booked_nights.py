"""The nights bookings keep with no deadline (BookedNight), which search reads, filled from the bookings there are;
search's range index now covers only the holds with a deadline, which it still reads from the bookings."""

import datetime

import django.contrib.postgres.fields.ranges
import django.contrib.postgres.indexes
import django.db.models.deletion
from django.db import migrations, models

import reservations.models
from core.migration_operations import AddIndexPostgresOnly, RemoveIndexPostgresOnly



def fill_booked_nights(apps, schema_editor):
    """As reservations.services.nights.booked_nights_fill, with the models as this migration knows them."""
    Booking = apps.get_model("reservations", "Booking")
    BookedNight = apps.get_model("reservations", "BookedNight")
    bookings = Booking.objects.filter(
        status__in=["held", "awaiting_payment", "confirmed"], blocks_until__isnull=True
    ).values_list("pk", "listing_id", "check_in", "check_out")
    rows = []
    for booking_id, listing_id, check_in, check_out in bookings.order_by("pk").iterator(chunk_size=5000):
        night = check_in
        while night < check_out:
            rows.append(BookedNight(booking_id=booking_id, listing_id=listing_id, night=night))
            night += datetime.timedelta(days=1)
        if len(rows) >= 5000:
            BookedNight.objects.bulk_create(rows)
            rows = []
    BookedNight.objects.bulk_create(rows)


class Migration(migrations.Migration):

    dependencies = [
        ('listings', '0007_listing_ratings'),
        ('reservations', '0005_booking_events_refuse_truncate'),
    ]

    operations = [
        migrations.CreateModel(
            name='BookedNight',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('night', models.DateField()),
                ('booking', models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='+', to='reservations.booking')),
                ('listing', models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='+', to='listings.listing')),
            ],
            options={
                'constraints': [models.UniqueConstraint(fields=('listing', 'night'), name='booked_night_unique_listing_night')],
                'indexes': [models.Index(fields=['night', 'listing'], name='booked_night_by_night')],
            },
        ),
        migrations.RunPython(fill_booked_nights, migrations.RunPython.noop, elidable=True),
        RemoveIndexPostgresOnly(model_name="booking", name="booking_blocking_stays"),
        AddIndexPostgresOnly(
            model_name="booking",
            index=django.contrib.postgres.indexes.GistIndex(
                reservations.models.DateRange(
                    "check_in", "check_out", django.contrib.postgres.fields.ranges.RangeBoundary()
                ),
                condition=models.Q(
                    ("blocks_until__isnull", False), ("status__in", ["held", "awaiting_payment", "confirmed"])
                ),
                include=("listing", "blocks_until", "check_in", "check_out"),
                name="booking_holds_stays",
            ),
        ),
    ]
