"""Page URLs of the recognition app."""

from django.urls import path

from . import species_list, views

app_name = "recognition"
urlpatterns = [
    path("identify/", views.identify, name="identify"),
    path("identifications/<uuid:public_id>/", views.detail, name="detail"),
    path("identifications/<uuid:public_id>/status/", views.status, name="status"),
    path("identifications/<uuid:public_id>/photos/<int:photo_pk>/<str:kind>/", views.photo, name="photo"),
    path("identifications/<uuid:public_id>/feedback/", views.feedback, name="feedback"),
    path("identifications/<uuid:public_id>/delete/", views.delete, name="delete"),
    # the numbered URLs of before, kept by bookmarks: redirected for their owner
    path("identifications/<int:pk>/", views.numbered, name="numbered"),
    path("identifications/<int:pk>/<path:rest>", views.numbered, name="numbered_page"),
    path("history/", views.history, name="history"),
    path("history/export/<str:fmt>/", views.history_export, name="history_export"),
    path("species/", species_list.species, name="species"),
    path("species/<int:pk>/", species_list.species, name="species_of_model"),
    path(
        "species/<int:pk>/references/<int:index>/<int:number>.jpg",
        species_list.reference_photo,
        name="reference_photo",
    ),
    path("api-token/", views.api_token, name="api_token"),
    path("preferences/", views.preferences, name="preferences"),
]
