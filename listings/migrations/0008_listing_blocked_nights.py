"""On PostgreSQL, each listing's row carries the nights its host has blocked (listings_listing.blocked_nights, a
datemultirange), kept equal to its blocked CalendarDay rows by a trigger on that table, so search tests a listing's
blocked nights in the listing's own row, as it tests the nights confirmed stays keep (reservations migration 0007),
instead of reading every blocked night of the catalogue for the stay's dates. On bench/search.py's database (10,000
listings, 1,000,000 calendar rows), that read was 2,055 rows and 0.4 ms of the search's 2.7 ms id query.

The column is not a model field: only search's SQL reads it (listings.selectors.search), and only this trigger
writes it, for every statement that changes CalendarDay (the calendar services, a bulk load, a cascade). SQLite has
neither; search there reads the CalendarDay rows."""

from django.db import migrations

from core.migration_operations import RunSQLPostgresOnly

FORWARD = """
ALTER TABLE listings_listing ADD COLUMN blocked_nights datemultirange NOT NULL DEFAULT '{}';

UPDATE listings_listing AS l SET blocked_nights = blocked.nights
  FROM (SELECT listing_id, range_agg(daterange(date, date, '[]')) AS nights
          FROM listings_calendarday WHERE blocked GROUP BY listing_id) AS blocked
 WHERE l.id = blocked.listing_id;

CREATE FUNCTION listings_calendarday_on_listing() RETURNS trigger AS $$
BEGIN
    -- Per listing: the blocked nights of the rows before the statement go, those of the rows after it come, and a
    -- listing whose blocked nights the statement left as they were (a price or a note changed) is not written.
    IF TG_OP = 'INSERT' THEN
        UPDATE listings_listing AS l SET blocked_nights = l.blocked_nights + added.nights
          FROM (SELECT listing_id, range_agg(daterange(date, date, '[]')) AS nights
                  FROM new_rows WHERE blocked GROUP BY listing_id) AS added
         WHERE l.id = added.listing_id;
    ELSIF TG_OP = 'DELETE' THEN
        UPDATE listings_listing AS l SET blocked_nights = l.blocked_nights - gone.nights
          FROM (SELECT listing_id, range_agg(daterange(date, date, '[]')) AS nights
                  FROM old_rows WHERE blocked GROUP BY listing_id) AS gone
         WHERE l.id = gone.listing_id;
    ELSIF TG_OP = 'UPDATE' THEN
        UPDATE listings_listing AS l
           SET blocked_nights = (l.blocked_nights - coalesce(changed.gone, '{}')) + coalesce(changed.added, '{}')
          FROM (SELECT listing_id,
                       range_agg(daterange(date, date, '[]')) FILTER (WHERE side = 'old') AS gone,
                       range_agg(daterange(date, date, '[]')) FILTER (WHERE side = 'new') AS added
                  FROM (SELECT listing_id, date, 'old' AS side FROM old_rows WHERE blocked
                        UNION ALL
                        SELECT listing_id, date, 'new' AS side FROM new_rows WHERE blocked) AS sides
                 GROUP BY listing_id) AS changed
         WHERE l.id = changed.listing_id AND changed.gone IS DISTINCT FROM changed.added;
    ELSIF TG_OP = 'TRUNCATE' THEN
        UPDATE listings_listing SET blocked_nights = '{}' WHERE NOT isempty(blocked_nights);
    END IF;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER listings_calendarday_added AFTER INSERT ON listings_calendarday
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION listings_calendarday_on_listing();
CREATE TRIGGER listings_calendarday_removed AFTER DELETE ON listings_calendarday
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION listings_calendarday_on_listing();
CREATE TRIGGER listings_calendarday_changed AFTER UPDATE ON listings_calendarday
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION listings_calendarday_on_listing();
CREATE TRIGGER listings_calendarday_emptied AFTER TRUNCATE ON listings_calendarday
    FOR EACH STATEMENT EXECUTE FUNCTION listings_calendarday_on_listing();
"""

BACKWARD = """
DROP TRIGGER listings_calendarday_added ON listings_calendarday;
DROP TRIGGER listings_calendarday_removed ON listings_calendarday;
DROP TRIGGER listings_calendarday_changed ON listings_calendarday;
DROP TRIGGER listings_calendarday_emptied ON listings_calendarday;
DROP FUNCTION listings_calendarday_on_listing();
ALTER TABLE listings_listing DROP COLUMN blocked_nights;
"""


class Migration(migrations.Migration):
    dependencies = [("listings", "0007_listing_ratings")]

    operations = [RunSQLPostgresOnly(FORWARD, BACKWARD)]
