"""A booking's payments by (booking, created_at, id) instead of the foreign key's own index on booking alone: every
lookup by booking still uses it, and the console's name search finds the newest payments of thousands of matching
bookings without reading the payments themselves. The new index is built before the old one is dropped."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("mpesa", "0005_support_search_booker_index"),
        ("reservations", "0003_search_set_wise_indexes"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="payment",
            index=models.Index(fields=["booking", "created_at", "id"], name="payment_booking_created"),
        ),
        migrations.AlterField(
            model_name="payment",
            name="booking",
            field=models.ForeignKey(
                db_index=False,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="payments",
                to="reservations.booking",
            ),
        ),
    ]
