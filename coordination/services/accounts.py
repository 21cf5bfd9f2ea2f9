"""Accounts: the second factor (TOTP and recovery codes) and invitations. Every step is audited."""

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core import signing
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from coordination import access
from coordination.errors import Forbidden, Invalid
from coordination.models import Invitation, Membership, Role
from coordination.services.audit import audit_record

__all__ = [
    "RECOVERY_CODES",
    "invitation_accept",
    "invitation_create",
    "invitation_for_token",
    "second_factor_enrol",
    "second_factor_start",
]

INVITATION_SALT = "narvaro.invitation"

# Each code signs in once, for when the phone with the authenticator is lost.
RECOVERY_CODES = 10


def second_factor_start(*, user) -> TOTPDevice:
    """An unconfirmed TOTP device for `user` to scan (reused while enrolment is unfinished)."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("-pk").first()
    return device or TOTPDevice.objects.create(user=user, name="Närvaro", confirmed=False)


def second_factor_enrol(*, user, device: TOTPDevice) -> list[str]:
    """Confirm `device` (its code was checked by the caller) and issue fresh recovery codes, shown once.

    Other unconfirmed TOTP devices and earlier recovery codes of `user` are removed.
    """
    with transaction.atomic():
        device.confirmed = True
        device.save(update_fields=["confirmed"])
        TOTPDevice.objects.filter(user=user, confirmed=False).delete()
        StaticDevice.objects.filter(user=user).delete()
        recovery = StaticDevice.objects.create(user=user, name="Reservkoder", confirmed=True)
        codes = [StaticToken.random_token() for _ in range(RECOVERY_CODES)]
        StaticToken.objects.bulk_create(StaticToken(device=recovery, token=code) for code in codes)
        audit_record(user=user, action="otp.enrol", detail={"device": device.pk})
    return codes


def invitation_token(invitation: Invitation) -> str:
    """The signed, timestamped reference the invitation link carries (no secret stored in the row)."""
    return signing.TimestampSigner(salt=INVITATION_SALT).sign(str(invitation.pk))


def invitation_create(*, actor, email: str, organization, role: str, team=None, link_for) -> Invitation:
    """An admin invites `email` to `role` in `organization` (and `team`); the e-mail carries the link.

    `link_for(token)` makes the absolute link (the caller knows the host). Audited without the link.
    """
    if not access.viewer_for(actor).is_admin and not getattr(actor, "is_staff", False):
        raise Forbidden(_("Bara administratörer bjuder in."))
    if role not in Role.values:
        raise Invalid(_("Okänd roll."), field="role")
    if team is not None and role != Role.FIELD:
        raise Invalid(_("Bara fältpersonal går i team."), field="team")
    with transaction.atomic():
        invitation = Invitation.objects.create(
            email=email.strip(), organization=organization, role=role, team=team, invited_by=actor
        )
        audit_record(
            user=actor,
            action="invitation.create",
            detail={"invitation": invitation.pk, "organization": organization.pk, "role": role},
        )
    days = settings.INVITATION_MAX_AGE_DAYS
    send_mail(
        subject=_("Inbjudan till Närvaro"),
        message=_(
            "Du är inbjuden till Närvaro som %(role)s i %(organization)s.\n\n"
            "Välj användarnamn och lösenord här (länken gäller i %(days)d dagar och kan användas en gång):\n"
            "%(link)s\n"
        )
        % {
            "role": invitation.get_role_display(),
            "organization": organization.name,
            "days": days,
            "link": link_for(invitation_token(invitation)),
        },
        from_email=None,
        recipient_list=[invitation.email],
    )
    return invitation


def invitation_for_token(token: str) -> Invitation:
    """The open invitation a link names; Invalid when the link is wrong, expired or already used."""
    try:
        pk = signing.TimestampSigner(salt=INVITATION_SALT).unsign(
            token, max_age=settings.INVITATION_MAX_AGE_DAYS * 86400
        )
    except signing.SignatureExpired:
        raise Invalid(_("Inbjudan har gått ut. Be om en ny.")) from None
    except signing.BadSignature:
        raise Invalid(_("Länken är inte giltig.")) from None
    invitation = Invitation.objects.filter(pk=pk).select_related("organization", "team").first()
    if invitation is None or invitation.accepted_at is not None:
        raise Invalid(_("Inbjudan är redan använd."))
    return invitation


def invitation_accept(*, token: str, username: str, first_name: str, password: str):
    """Create the invited person's account with the role (and team) and mark the invitation used."""
    User = get_user_model()
    invitation = invitation_for_token(token)
    username = username.strip()
    if not username:
        raise Invalid(_("Välj ett användarnamn."), field="username")
    candidate = User(username=username, email=invitation.email, first_name=first_name.strip()[:150])
    try:
        validate_password(password, user=candidate)
    except ValidationError as error:
        raise Invalid(" ".join(error.messages), field="password") from None
    try:
        with transaction.atomic():
            # Locks the invitation: two tabs accepting at once make one account.
            invitation = Invitation.objects.select_for_update().get(pk=invitation.pk, accepted_at__isnull=True)
            candidate.set_password(password)
            candidate.save()
            Membership.objects.create(user=candidate, organization=invitation.organization, role=invitation.role)
            if invitation.team_id:
                invitation.team.members.add(candidate)
            invitation.accepted_at = timezone.now()
            invitation.user = candidate
            invitation.save(update_fields=["accepted_at", "user"])
            audit_record(user=candidate, action="invitation.accept", detail={"invitation": invitation.pk})
    except Invitation.DoesNotExist:
        raise Invalid(_("Inbjudan är redan använd.")) from None
    except IntegrityError:
        raise Invalid(_("Användarnamnet är upptaget."), field="username") from None
    return candidate
