"""REST transports of the ops app: validate, call one service or selector, serialize."""

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.permissions import IsAdminUser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from . import services
from .models import WorkerProbe
from .outbox import outbox_task_id


class WorkerProbeOutputSerializer(serializers.ModelSerializer[WorkerProbe]):
    task_id = serializers.SerializerMethodField()

    class Meta:
        model = WorkerProbe
        fields = ["id", "source", "requested_at", "completed_at", "worker", "task_id"]

    def get_task_id(self, probe: WorkerProbe) -> str:
        return outbox_task_id(probe)


class WorkerProbeCreateApi(APIView):
    """Send a probe through the broker to a worker (staff only).

    The probe is stored first; if the broker is down it stays pending until the outbox sweep
    sends it again, so a 202 never means lost work.
    """

    permission_classes = [IsAdminUser]

    @extend_schema(request=None, responses={202: WorkerProbeOutputSerializer})
    def post(self, request: Request) -> Response:
        probe = services.worker_probe_request()
        return Response(WorkerProbeOutputSerializer(probe).data, status=status.HTTP_202_ACCEPTED)


class WorkerProbeDetailApi(APIView):
    permission_classes = [IsAdminUser]

    @extend_schema(responses={200: WorkerProbeOutputSerializer})
    def get(self, request: Request, probe_id: str) -> Response:
        probe = get_object_or_404(WorkerProbe, id=probe_id)
        return Response(WorkerProbeOutputSerializer(probe).data)
