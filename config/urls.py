from django.contrib import admin
from django.urls import URLPattern, URLResolver, include, path
from drf_spectacular.views import SpectacularAPIView

from config.health import healthz
from knowledge import views as knowledge_views

api_v1: list[URLPattern | URLResolver] = [
    path("schema/", SpectacularAPIView.as_view(api_version="v1"), name="schema"),
    path("ops/", include("ops.urls")),
]

urlpatterns = [
    path("", knowledge_views.home, name="home"),
    path("healthz", healthz, name="healthz"),
    path("admin/", admin.site.urls),
    path("api/v1/", include((api_v1, "api-v1"))),
]
