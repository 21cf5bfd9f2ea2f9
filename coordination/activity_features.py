"""GeoJSON of the map layers, from the geometry itself (djangorestframework-gis)."""

from django.contrib.gis.geos import Point
from rest_framework import serializers
from rest_framework_gis.serializers import GeoFeatureModelSerializer, GeometrySerializerMethodField

from coordination.payloads import activity_payload
from maps.models import Activity


class ActivityFeatureSerializer(GeoFeatureModelSerializer):
    """One activity as a GeoJSON feature: its point (or its place's), properties as its events carry them."""

    id = serializers.SerializerMethodField()
    location = GeometrySerializerMethodField()

    class Meta:
        model = Activity
        geo_field = "location"
        id_field = "id"
        fields = ("id", "location")

    def get_id(self, activity: Activity) -> str:
        return f"activity.{activity.pk}"

    def get_location(self, activity: Activity) -> Point | None:
        # Rounded as the payload's lat/lon are, so a client that moves a marker by an event and a
        # fresh snapshot agree to the last digit.
        payload = activity_payload(activity)
        if payload["lat"] is None:
            return None
        return Point(payload["lon"], payload["lat"], srid=4326)

    def get_properties(self, instance: Activity, fields) -> dict:
        return {"layer": "activity", **activity_payload(instance)}
