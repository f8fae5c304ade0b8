from django.contrib import admin

from .models import ModelVersion


@admin.register(ModelVersion)
class ModelVersionAdmin(admin.ModelAdmin):
    list_display = ("name", "architecture", "is_active", "input_size", "created")
    list_filter = ("is_active", "architecture")
    readonly_fields = ("sha256", "checkpoint_path", "class_names", "display_names", "metrics", "created")
