"""Photo files follow their rows: whatever deletes a photo row (a user, an account, the admin) removes its files."""

from __future__ import annotations

from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models.signals import post_delete
from django.dispatch import receiver

from .models import IdentificationPhoto


@receiver(post_delete, sender=IdentificationPhoto)
def delete_photo_files(sender, instance: IdentificationPhoto, **kwargs) -> None:
    """Remove the photo's original and thumbnail once the deletion commits (never if it rolls back)."""
    names = [name for name in (instance.file.name, instance.thumbnail.name) if name]
    transaction.on_commit(lambda: [default_storage.delete(name) for name in names])
