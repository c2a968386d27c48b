from django.db import migrations, models

import core.models


class Migration(migrations.Migration):
    dependencies = [("core", "0004_user_public_id")]

    operations = [
        migrations.AlterField(
            model_name="user",
            name="public_id",
            field=models.CharField(default=core.models.new_public_id, editable=False, max_length=16, unique=True),
        ),
    ]
