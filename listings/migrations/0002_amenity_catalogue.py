from django.db import migrations

# The catalogue as of this migration. A later change to the catalogue gets its own migration.
CATALOGUE = [
    "wifi",
    "parking",
    "pool",
    "kitchen",
    "air_conditioning",
    "hot_water",
    "backup_power",
    "sea_view",
    "beach_access",
    "washing_machine",
    "tv",
    "workspace",
    "garden",
    "bbq",
    "security",
    "mosquito_nets",
    "fireplace",
    "gym",
]


def add_catalogue(apps, schema_editor):
    Amenity = apps.get_model("listings", "Amenity")
    for position, code in enumerate(CATALOGUE):
        Amenity.objects.update_or_create(code=code, defaults={"position": position})


def remove_catalogue(apps, schema_editor):
    apps.get_model("listings", "Amenity").objects.filter(code__in=CATALOGUE).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("listings", "0001_initial"),
    ]

    operations = [
        migrations.RunPython(add_catalogue, remove_catalogue),
    ]
