"""PostgreSQL guarantees: no two blocking bookings of one listing overlap; booking events are append-only.

SQLite (local runs) keeps the same rules through the listing lock and the checks in reservations.services.
"""

import django.contrib.postgres.constraints
import django.contrib.postgres.fields.ranges
from django.contrib.postgres.operations import BtreeGistExtension
from django.db import migrations, models

import reservations.models


class AddConstraintPostgresOnly(migrations.AddConstraint):
    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            super().database_forwards(app_label, schema_editor, from_state, to_state)

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            super().database_backwards(app_label, schema_editor, from_state, to_state)


APPEND_ONLY_SQL = """
CREATE OR REPLACE FUNCTION reservations_bookingevent_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'booking events are append-only: % is not allowed', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER reservations_bookingevent_append_only
    BEFORE UPDATE OR DELETE ON reservations_bookingevent
    FOR EACH ROW EXECUTE FUNCTION reservations_bookingevent_append_only();
"""
DROP_APPEND_ONLY_SQL = """
DROP TRIGGER IF EXISTS reservations_bookingevent_append_only ON reservations_bookingevent;
DROP FUNCTION IF EXISTS reservations_bookingevent_append_only();
"""


def create_append_only_trigger(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(APPEND_ONLY_SQL, params=None)


def drop_append_only_trigger(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP_APPEND_ONLY_SQL, params=None)


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
        migrations.RunPython(create_append_only_trigger, drop_append_only_trigger),
    ]
