"""The site's URLs plus one view that fails, to see the 500 page as a user would."""

from django.contrib.auth.decorators import login_not_required
from django.urls import path

from plantsite.urls import handler500, urlpatterns  # noqa: F401  (handler500 must be in this module)


@login_not_required
def broken(request):
    raise RuntimeError("a bug")


urlpatterns = [path("broken/", broken), path("v2/broken/", broken), *urlpatterns]
