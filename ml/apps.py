from django.apps import AppConfig


class MlConfig(AppConfig):
    """Model registry plus the train and evaluate commands."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "ml"
    verbose_name = "Models"

    def ready(self) -> None:
        from . import activation, model_health  # noqa: F401  (tell workers of a new model; the /health/ check)
