"""Payment.search_text: the booking's names, e-mail addresses and listing title, normalised, one per line, so that
the console's name search is one read of payments through a trigram index instead of three lookups and a join.

The existing payments are filled in batches of bookings, then the index is built (PostgreSQL only: SQLite has no
pg_trgm and reads the column with LIKE)."""

import unicodedata

from django.conf import settings
from django.db import migrations, models

INDEX = "payment_search_trgm"
BATCH = 2000


def _normalise(text: str) -> str:
    # As mpesa.support_search.search_normalise, copied so that this migration keeps its meaning.
    if not text.isascii():
        decomposed = unicodedata.normalize("NFKD", text)
        text = "".join(char for char in decomposed if not unicodedata.combining(char))
    return " ".join(text.casefold().split())


def fill_search_text(apps, schema_editor):
    Payment = apps.get_model("mpesa", "Payment")
    Booking = apps.get_model("reservations", "Booking")
    db = schema_editor.connection.alias
    booking_ids = list(Payment.objects.using(db).order_by("booking_id").values_list("booking_id", flat=True).distinct())
    table = schema_editor.quote_name(Payment._meta.db_table)
    for start in range(0, len(booking_ids), BATCH):
        rows = (
            Booking.objects.using(db)
            .filter(pk__in=booking_ids[start : start + BATCH])
            .order_by("pk", "guests__position")
            .values_list(
                "pk", "booker__full_name", "booker__email", "listing__title", "guests__full_name", "guests__email"
            )
        )
        parts = {}
        for booking_id, *values in rows:
            seen = parts.setdefault(booking_id, [])
            for value in values:
                text = _normalise(value or "")
                if text and text not in seen:
                    seen.append(text)
        if not parts:
            continue
        values_sql = ", ".join(["(%s, %s)"] * len(parts))
        params = [item for booking_id, seen in parts.items() for item in (booking_id, "\n".join(seen))]
        # VALUES names its columns column1, column2 on both databases.
        schema_editor.execute(
            f"UPDATE {table} SET search_text = v.column2 FROM (SELECT * FROM (VALUES {values_sql}) AS vals) AS v "
            f"WHERE {table}.booking_id = v.column1",
            params,
        )


def add_index(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    schema_editor.execute(
        f'CREATE INDEX IF NOT EXISTS "{INDEX}" ON "mpesa_payment" USING gin (search_text gin_trgm_ops)'
    )


def drop_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f'DROP INDEX IF EXISTS "{INDEX}"')


class Migration(migrations.Migration):
    dependencies = [
        ("mpesa", "0006_payment_booking_created_index"),
        ("reservations", "0003_search_set_wise_indexes"),
        ("listings", "0001_initial"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name="payment",
            name="search_text",
            field=models.TextField(blank=True, default="", editable=False),
        ),
        migrations.RunPython(fill_search_text, migrations.RunPython.noop, elidable=False),
        migrations.RunPython(add_index, drop_index, elidable=False),
    ]
