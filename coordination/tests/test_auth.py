"""Device tokens: a valid one names its user and notes its use; revoked or unknown ones name nobody."""

from datetime import timedelta

import pytest

from coordination import services
from coordination.auth import bearer_key, user_for_token
from coordination.models import DeviceToken

pytestmark = pytest.mark.django_db


def test_a_token_names_its_user_and_notes_its_use_at_most_once_a_minute(world):
    token, key = services.device_token_issue(user=world.alice, name="Telefon")
    assert user_for_token(key) == world.alice
    first = DeviceToken.objects.get(pk=token.pk).last_used_at
    assert first is not None
    DeviceToken.objects.filter(pk=token.pk).update(last_used_at=first - timedelta(seconds=30))
    user_for_token(key)
    assert DeviceToken.objects.get(pk=token.pk).last_used_at == first - timedelta(seconds=30)
    DeviceToken.objects.filter(pk=token.pk).update(last_used_at=first - timedelta(seconds=90))
    user_for_token(key)
    assert DeviceToken.objects.get(pk=token.pk).last_used_at > first - timedelta(seconds=90)


def test_revoked_and_unknown_tokens_name_nobody(world):
    token, key = services.device_token_issue(user=world.alice)
    services.device_token_revoke(token=token)
    assert user_for_token(key) is None
    assert user_for_token("not-a-token") is None


@pytest.mark.parametrize(
    ("headers", "key"),
    [
        ([(b"authorization", b"Bearer abc")], "abc"),
        ([(b"Authorization", b"bearer  abc ")], "abc"),
        ([(b"authorization", b"Basic abc")], None),
        ([], None),
    ],
)
def test_the_bearer_key_is_read_from_the_handshake_headers(headers, key):
    assert bearer_key(headers) == key
