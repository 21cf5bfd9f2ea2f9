"""WebSocket routes, one consumer per audience."""

from django.urls import path

from coordination import consumers

websocket_urlpatterns = [
    path("ws/field/", consumers.FieldConsumer.as_asgi()),
    path("ws/ops/", consumers.OpsConsumer.as_asgi()),
    path("ws/public/", consumers.PublicConsumer.as_asgi()),
]
