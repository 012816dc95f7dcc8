from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView

from config.health import healthz
from knowledge import views as knowledge_views
from quizzes import apis as quiz_apis

api_v1 = [
    path("schema/", SpectacularAPIView.as_view(api_version="v1"), name="schema"),
    path(
        "ops/worker-probes/", quiz_apis.WorkerProbeCreateApi.as_view(), name="worker-probe-create"
    ),
    path(
        "ops/worker-probes/<uuid:probe_id>/",
        quiz_apis.WorkerProbeDetailApi.as_view(),
        name="worker-probe-detail",
    ),
]

urlpatterns = [
    path("", knowledge_views.home, name="home"),
    path("healthz", healthz, name="healthz"),
    path("admin/", admin.site.urls),
    path("api/v1/", include((api_v1, "api-v1"))),
]
