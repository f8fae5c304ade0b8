from django.apps import AppConfig


class MlConfig(AppConfig):
    """Model registry plus the train and evaluate commands."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "ml"
    verbose_name = "Models"
