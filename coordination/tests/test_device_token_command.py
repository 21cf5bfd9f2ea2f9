"""device_token: issue a token for a user from the command line; the key is shown once and only its hash kept."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from coordination.models import DeviceToken


@pytest.fixture(autouse=True)
def fast_passwords(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def issue(*args: str) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command("device_token", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_it_prints_a_new_key_for_the_user(world):
    out, err = issue("alice", "--name", "Hamnens telefon")

    key = out.strip()
    token = DeviceToken.objects.get()
    assert token.user == world.alice
    assert token.name == "Hamnens telefon"
    assert token.key_hash == DeviceToken.hash(key)
    assert token.prefix == key[:8]
    assert token.prefix in err and "alice" in err


def test_each_run_issues_another_token(world):
    first, _ = issue("alice")
    second, _ = issue("alice")

    assert first != second
    assert DeviceToken.objects.filter(user=world.alice).count() == 2


def test_an_unknown_user_is_a_clear_error(world):
    with pytest.raises(CommandError, match="No user named 'nobody'"):
        issue("nobody")

    assert not DeviceToken.objects.exists()


def test_an_inactive_user_gets_no_token(world):
    world.alice.is_active = False
    world.alice.save()

    with pytest.raises(CommandError, match="inactive"):
        issue("alice")

    assert not DeviceToken.objects.exists()
