"""A random public id for each identification, the one its page URLs carry; existing rows get one each."""

import uuid

from django.db import migrations, models


def give_each_a_public_id(apps, schema_editor):
    Identification = apps.get_model("recognition", "Identification")
    for pk in Identification.objects.filter(public_id__isnull=True).values_list("pk", flat=True).iterator():
        Identification.objects.filter(pk=pk).update(public_id=uuid.uuid4())


class Migration(migrations.Migration):
    dependencies = [
        ("recognition", "0009_deliveries"),
    ]

    operations = [
        migrations.AddField(
            model_name="identification",
            name="public_id",
            field=models.UUIDField(editable=False, null=True),
        ),
        migrations.RunPython(give_each_a_public_id, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="identification",
            name="public_id",
            field=models.UUIDField(default=uuid.uuid4, editable=False, unique=True),
        ),
    ]
