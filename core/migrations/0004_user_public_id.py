from django.db import migrations, models

import core.models


def fill_public_ids(apps, schema_editor):
    User = apps.get_model("core", "User")
    for user in User.objects.filter(public_id__isnull=True).only("pk"):
        user.public_id = core.models.new_public_id()
        user.save(update_fields=["public_id"])


class Migration(migrations.Migration):
    dependencies = [("core", "0003_user_phone")]

    operations = [
        migrations.AddField(model_name="user", name="public_id", field=models.CharField(max_length=16, null=True)),
        migrations.RunPython(fill_public_ids, migrations.RunPython.noop),
    ]
