from django.contrib import admin

from .models import Candidate, Identification, IdentificationPhoto, Preferences


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
