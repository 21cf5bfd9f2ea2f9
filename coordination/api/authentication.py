"""DRF authentication by device token: `Authorization: Bearer <key>` (session auth covers the pages)."""

from django.utils.translation import gettext as _
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions
from rest_framework.request import Request

from coordination.auth import bearer_key, user_for_token
from coordination.lockout import check_device_address, device_token_failed


class BearerTokenAuthentication(authentication.BaseAuthentication):
    """A device token from `manage.py device_token`; a wrong or revoked one is refused with 401."""

    def authenticate(self, request: Request):
        key = bearer_key({"authorization": request.headers.get("Authorization", "")})
        if key is None:
            return None  # no token: let session auth (or anonymous access) decide
        check_device_address(request)
        user = user_for_token(key)
        if user is None:
            device_token_failed(request)
            raise exceptions.AuthenticationFailed(_("Enhetsnyckeln är ogiltig eller återkallad."))
        return user, key

    def authenticate_header(self, request: Request) -> str:
        # Makes DRF answer 401 (not 403) to a request without credentials.
        return 'Bearer realm="api"'


class BearerTokenScheme(OpenApiAuthenticationExtension):
    """Documents the bearer token in the OpenAPI schema."""

    target_class = BearerTokenAuthentication
    name = "deviceToken"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "Device token from `python manage.py device_token USERNAME`.",
        }
