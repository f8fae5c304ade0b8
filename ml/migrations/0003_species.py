"""ModelVersion.species: the species facts per class, copied from each checkpoint at registration."""

from django.db import migrations, models


def copy_species_from_checkpoints(apps, schema_editor):
    """Fill the new field from the checkpoints already registered (a missing or unreadable file is left empty)."""
    ModelVersion = apps.get_model("ml", "ModelVersion")
    versions = list(ModelVersion.objects.all())
    if not versions:
        return
    from plantml.checkpoint import load_checkpoint  # PyTorch: only when there are models to read

    for version in versions:
        try:
            species = load_checkpoint(version.checkpoint_path)["spec"].get("species") or []
        except Exception:  # noqa: BLE001 - a bad file must not stop the migration; verify() reports it
            continue
        ModelVersion.objects.filter(pk=version.pk).update(species=species)


class Migration(migrations.Migration):
    dependencies = [
        ("ml", "0002_title"),
    ]

    operations = [
        migrations.AddField(
            model_name="modelversion",
            name="species",
            field=models.JSONField(
                blank=True,
                default=list,
                help_text="species facts per class (SpeciesInfo dicts), as the checkpoint has them",
            ),
        ),
        migrations.RunPython(copy_species_from_checkpoints, migrations.RunPython.noop),
    ]
