from django.contrib import admin
from django.http import HttpRequest

from .models import ApiToken, Candidate, Identification, IdentificationPhoto, Preferences


class PhotoInline(admin.TabularInline):
    model = IdentificationPhoto
    extra = 0
    readonly_fields = ("organ", "width", "height")
    exclude = ("file", "thumbnail")  # photos are private: no public media links


class CandidateInline(admin.TabularInline):
    model = Candidate
    extra = 0
    readonly_fields = ("rank", "label", "display_name", "probability")


@admin.register(Identification)
class IdentificationAdmin(admin.ModelAdmin):
    list_display = ("pk", "owner", "status", "model_version", "duration_ms", "created")
    list_filter = ("status", "outcome", "reason", "feedback_verdict", "model_version")
    search_fields = ("owner__username", "candidates__display_name")
    readonly_fields = ("owner", "status", "error", "created", "started", "finished", "model_version", "duration_ms")
    inlines = [PhotoInline, CandidateInline]


@admin.register(Preferences)
class PreferencesAdmin(admin.ModelAdmin):
    list_display = ("user", "share_confirmed_photos")
    list_filter = ("share_confirmed_photos",)
    search_fields = ("user__username",)


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):  # type: ignore[type-arg]  # not subscriptable at run time
    """Tokens can be seen and revoked here; users create them on the API token page (the secret is shown once)."""

    list_display = ("name", "user", "token_key", "created", "expiry")
    search_fields = ("user__username", "name", "token_key")
    readonly_fields = ("name", "user", "token_key", "created", "expiry")
    exclude = ("digest",)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False
