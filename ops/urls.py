"""The ops routes, mounted under /api/v1/ops/ by config.urls."""

from django.urls import path

from . import apis

urlpatterns = [
    path("worker-probes/", apis.WorkerProbeCreateApi.as_view(), name="worker-probe-create"),
    path(
        "worker-probes/<uuid:probe_id>/",
        apis.WorkerProbeDetailApi.as_view(),
        name="worker-probe-detail",
    ),
]
