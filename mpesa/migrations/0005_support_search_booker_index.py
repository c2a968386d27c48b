"""The console's name search turns the people whose name or e-mail matches into their bookings' ids. An index on
(booker_id, id) answers that from the index alone; with only the foreign key's index PostgreSQL preferred to read
every booking. A plain B-tree, so SQLite (make run) gets it too."""

from django.db import migrations

INDEX = "support_booking_booker_id"


def add_index(apps, schema_editor):
    schema_editor.execute(f'CREATE INDEX IF NOT EXISTS "{INDEX}" ON "reservations_booking" ("booker_id", "id")')


def drop_index(apps, schema_editor):
    schema_editor.execute(f'DROP INDEX IF EXISTS "{INDEX}"')


class Migration(migrations.Migration):
    dependencies = [
        ("mpesa", "0004_payment_guest_code_index"),
        ("reservations", "0002_no_double_booking"),
    ]

    operations = [migrations.RunPython(add_index, drop_index, elidable=False)]
