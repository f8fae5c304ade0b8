from django.apps import AppConfig


class RecognitionConfig(AppConfig):
    """Uploads, identifications and their history."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "recognition"
    verbose_name = "Recognition"

    def ready(self) -> None:
        from . import signals  # noqa: F401  (connects the receivers)
