"""On PostgreSQL, each listing's row carries the nights its bookings keep for good (listings_listing.booked_nights,
a datemultirange), kept equal to its BookedNight rows by a trigger on that table, so search tests a listing's
nights in the listing's own row instead of joining the BookedNight rows of every listing in the catalogue for the
stay's dates. On bench/search.py's database (10,000 listings, 200,000 bookings), pgbench: the search's id query
2.9 -> 1.0-1.4 ms of PostgreSQL prepared, 3.6 -> 1.5-2.2 ms with its planning; through gunicorn, PostgreSQL's
CPU per search page 4.6-4.9 -> 3.0-3.4 ms (docs/search.md).

The column is not a model field: only search's SQL reads it (reservations.selectors.nights_free_sql), and only this
trigger writes it, for every statement that changes BookedNight (the booking services, booked_nights_fill, a bulk
load, a cascade). SQLite has neither; search there reads the BookedNight rows."""

from django.db import migrations

from core.migration_operations import RunSQLPostgresOnly

FORWARD = """
ALTER TABLE listings_listing ADD COLUMN booked_nights datemultirange NOT NULL DEFAULT '{}';

UPDATE listings_listing AS l SET booked_nights = kept.nights
  FROM (SELECT listing_id, range_agg(daterange(night, night, '[]')) AS nights
          FROM reservations_bookednight GROUP BY listing_id) AS kept
 WHERE l.id = kept.listing_id;

CREATE FUNCTION reservations_bookednight_on_listing() RETURNS trigger AS $$
BEGIN
    -- Old rows first: an UPDATE that keeps a night takes it out, then puts it back.
    IF TG_OP IN ('DELETE', 'UPDATE') THEN
        UPDATE listings_listing AS l SET booked_nights = l.booked_nights - gone.nights
          FROM (SELECT listing_id, range_agg(daterange(night, night, '[]')) AS nights
                  FROM old_rows GROUP BY listing_id) AS gone
         WHERE l.id = gone.listing_id;
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        UPDATE listings_listing AS l SET booked_nights = l.booked_nights + added.nights
          FROM (SELECT listing_id, range_agg(daterange(night, night, '[]')) AS nights
                  FROM new_rows GROUP BY listing_id) AS added
         WHERE l.id = added.listing_id;
    END IF;
    IF TG_OP = 'TRUNCATE' THEN
        UPDATE listings_listing SET booked_nights = '{}' WHERE NOT isempty(booked_nights);
    END IF;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER reservations_bookednight_added AFTER INSERT ON reservations_bookednight
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION reservations_bookednight_on_listing();
CREATE TRIGGER reservations_bookednight_removed AFTER DELETE ON reservations_bookednight
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION reservations_bookednight_on_listing();
CREATE TRIGGER reservations_bookednight_changed AFTER UPDATE ON reservations_bookednight
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION reservations_bookednight_on_listing();
CREATE TRIGGER reservations_bookednight_emptied AFTER TRUNCATE ON reservations_bookednight
    FOR EACH STATEMENT EXECUTE FUNCTION reservations_bookednight_on_listing();
"""

BACKWARD = """
DROP TRIGGER reservations_bookednight_added ON reservations_bookednight;
DROP TRIGGER reservations_bookednight_removed ON reservations_bookednight;
DROP TRIGGER reservations_bookednight_changed ON reservations_bookednight;
DROP TRIGGER reservations_bookednight_emptied ON reservations_bookednight;
DROP FUNCTION reservations_bookednight_on_listing();
ALTER TABLE listings_listing DROP COLUMN booked_nights;
"""


class Migration(migrations.Migration):
    dependencies = [
        ("listings", "0007_listing_ratings"),
        ("reservations", "0006_booked_nights"),
    ]

    operations = [RunSQLPostgresOnly(FORWARD, BACKWARD)]
