from django.db import migrations

# Search matches `where` against county, town and title with icontains (UPPER(col) LIKE UPPER('%...%')).
# Trigram indexes on the same expressions let PostgreSQL combine them with the county index instead of
# reading every listing. PostgreSQL only: SQLite (make run) has no pg_trgm and needs none at its size.
INDEXES = {
    "listing_town_upper_trgm": "town",
    "listing_title_upper_trgm": "title",
}


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for name, column in INDEXES.items():
        schema_editor.execute(
            f'CREATE INDEX IF NOT EXISTS "{name}" ON "listings_listing" USING gin (UPPER("{column}") gin_trgm_ops)'
        )


def drop(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name in INDEXES:
        schema_editor.execute(f'DROP INDEX IF EXISTS "{name}"')


class Migration(migrations.Migration):
    dependencies = [
        ("listings", "0003_listingphoto_thumbnail"),
    ]

    operations = [
        migrations.RunPython(create, drop),
    ]
