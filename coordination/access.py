"""Who may do and see what. Views, consumers and services all ask here; rules live nowhere else."""

from dataclasses import dataclass, field

from django.db import connection
from django.db.models import Q

from coordination.audience import CHAT_EVERYONE, DIALOGUE, FIELD, OPS, PUBLIC, STAFF, Audience, Scope
from coordination.kinds import KINDS, Own
from coordination.models import Membership, Role, Shift, Team
from maps.models import Activity


@dataclass(frozen=True)
class Viewer:
    """What the access rules need to know about one person, read once per request or socket."""

    user_id: int | None
    roles: frozenset[str] = frozenset()
    team_ids: frozenset[int] = frozenset()
    # Teams of this person that are out on a shift now, and the areas those shifts planned.
    on_duty_team_ids: frozenset[int] = frozenset()
    duty_area_ids: frozenset[int] = frozenset()
    # Organisations in which the person holds the association role (their activities).
    association_org_ids: frozenset[int] = frozenset()
    is_superuser: bool = False
    active_shift_ids: frozenset[int] = field(default_factory=frozenset)

    @property
    def is_duty(self) -> bool:
        return Role.DUTY in self.roles

    @property
    def is_partner(self) -> bool:
        return Role.PARTNER in self.roles

    @property
    def is_field(self) -> bool:
        return Role.FIELD in self.roles

    @property
    def is_dialogue(self) -> bool:
        return Role.DIALOGUE in self.roles

    @property
    def is_admin(self) -> bool:
        """The municipality's system owner: a superuser or an admin membership."""
        return self.is_superuser or Role.ADMIN in self.roles

    @property
    def on_duty(self) -> bool:
        """A field member whose team is out now: sees the live staff picture."""
        return self.is_field and bool(self.on_duty_team_ids)


ANONYMOUS = Viewer(user_id=None)


def _viewer_sql() -> str:
    """viewer_for's one statement: roles with their organisations, teams, open shifts and their areas."""
    members = Team.members.through._meta
    planned = Shift.planned_areas.through._meta
    member_team = members.get_field("team").column
    member_user = members.get_field(Team.members.field.m2m_reverse_field_name()).column
    planned_shift = planned.get_field("shift").column
    planned_area = planned.get_field("area").column
    return f"""
        WITH teams AS (SELECT {member_team} AS id FROM {members.db_table} WHERE {member_user} = %(user)s),
        shifts AS (
            SELECT id, team_id FROM {Shift._meta.db_table}
            WHERE ended_at IS NULL AND team_id IN (SELECT id FROM teams)
        )
        SELECT
            ARRAY(SELECT role FROM {Membership._meta.db_table} WHERE user_id = %(user)s ORDER BY id),
            ARRAY(SELECT organization_id FROM {Membership._meta.db_table} WHERE user_id = %(user)s ORDER BY id),
            ARRAY(SELECT id FROM teams),
            ARRAY(SELECT id FROM shifts ORDER BY id),
            ARRAY(SELECT team_id FROM shifts ORDER BY id),
            ARRAY(SELECT {planned_area} FROM {planned.db_table} WHERE {planned_shift} IN (SELECT id FROM shifts))
    """


def viewer_for(user) -> Viewer:
    """Read the roles, teams and active shifts of `user` (anonymous users get ANONYMOUS), in one query."""
    if user is None or not user.is_authenticated:
        return ANONYMOUS
    # One statement, not four: every write and every socket's connect and hello reads it, on a
    # database thread that gets the interpreter back only between other work (issue 16).
    with connection.cursor() as cursor:
        cursor.execute(_viewer_sql(), {"user": user.pk})
        roles_list, org_ids, team_ids, shift_ids, shift_team_ids, area_ids = cursor.fetchone()
    roles = set(roles_list)
    if user.is_superuser:
        roles.add(Role.ADMIN)
    return Viewer(
        user_id=user.pk,
        roles=frozenset(roles),
        team_ids=frozenset(team_ids),
        on_duty_team_ids=frozenset(shift_team_ids),
        duty_area_ids=frozenset(area_ids),
        association_org_ids=frozenset(
            org for role, org in zip(roles_list, org_ids, strict=True) if role == Role.ASSOCIATION
        ),
        is_superuser=user.is_superuser,
        active_shift_ids=frozenset(shift_ids),
    )


# --- seeing -------------------------------------------------------------------------------------


def may_see(viewer: Viewer, audience: Audience | str) -> bool:
    """May `viewer` receive an event addressed to `audience`?"""
    if isinstance(audience, str):
        try:
            audience = Audience.parse(audience)
        except ValueError:
            return False
    match audience.scope:
        case Scope.PUBLIC:
            return True
        case Scope.OPS:
            # Positions at every flush: the duty map and the partner. Field devices get "field".
            return viewer.is_duty or viewer.is_partner
        case Scope.FIELD:
            # Team positions at the slower field tick, for field members out tonight.
            return viewer.on_duty
        case Scope.STAFF:
            # Staff positions, notes and alerts: partner reads everything live; field only while out.
            return viewer.is_duty or viewer.is_partner or viewer.on_duty
        case Scope.CHAT_EVERYONE:
            return viewer.is_duty or viewer.on_duty
        case Scope.CHAT_TEAM:
            return viewer.is_duty or (viewer.is_field and audience.target in viewer.team_ids)
        case Scope.CHAT_AREA:
            return viewer.is_duty or (viewer.on_duty and audience.target in viewer.duty_area_ids)
        case Scope.DIALOGUE:
            return may_moderate_reports(viewer)
    return False


def hears_own(viewer: Viewer, *, kind: str, data: dict) -> bool:
    """Is this event `viewer`'s own, heard whatever its audience (kinds.Kind.hears_own)?

    A team's field members hear their own shift start and end: once it has ended they are off duty,
    but their phones must learn it ended. The raiser of an alarm follows it (raised, acknowledged by
    whom, resolved), on shift or not.
    """
    spec = KINDS.get(kind)
    match spec.hears_own if spec else None:
        case Own.TEAM:
            return viewer.is_field and data.get("team") in viewer.team_ids
        case Own.AUTHOR:
            return viewer.user_id is not None and data.get("author") == viewer.user_id
    return False


def may_see_event(viewer: Viewer, *, audience: Audience | str, kind: str, data: dict) -> bool:
    """may_see, plus the events a viewer hears as their own (hears_own)."""
    return hears_own(viewer, kind=kind, data=data) or may_see(viewer, audience)


def visible_audiences(viewer: Viewer) -> list[Audience]:
    """Every audience may_see allows `viewer`, for a viewer who is not duty (duty sees every one)."""
    audiences = [PUBLIC]
    if viewer.is_partner or viewer.on_duty:
        audiences.append(STAFF)
    if viewer.is_partner:
        audiences.append(OPS)
    if viewer.on_duty:
        audiences += [FIELD, CHAT_EVERYONE]
        audiences += [Audience(Scope.CHAT_AREA, a) for a in sorted(viewer.duty_area_ids)]
    if viewer.is_field:
        audiences += [Audience(Scope.CHAT_TEAM, t) for t in sorted(viewer.team_ids)]
    if may_moderate_reports(viewer):
        audiences.append(DIALOGUE)
    return audiences


def visible_events(viewer: Viewer) -> Q:
    """A database filter on Event keeping at least what may_see_event allows (callers still check each).

    Replay reads through it, so a public or field client's window is not used up by the duty
    map's position frames.
    """
    if viewer.is_duty:
        return Q()
    visible = Q(audience__in=[str(a) for a in visible_audiences(viewer)])
    own = {o: [name for name, spec in KINDS.items() if spec.hears_own == o] for o in Own}
    if viewer.is_field and viewer.team_ids:
        visible |= Q(kind__in=own[Own.TEAM], data__team__in=sorted(viewer.team_ids))
    if viewer.user_id is not None:
        visible |= Q(kind__in=own[Own.AUTHOR], data__author=viewer.user_id)
    return visible


def may_connect_field(viewer: Viewer) -> bool:
    """The field socket and page: field members."""
    return viewer.is_field


def may_connect_ops(viewer: Viewer) -> bool:
    """The duty map: duty officers (read-write) and partners (read-only)."""
    return viewer.is_duty or viewer.is_partner


def may_read_live(viewer: Viewer) -> bool:
    """The live staff picture (positions, notes, alerts) over HTTP or socket."""
    return may_see(viewer, STAFF)


def may_read_reports(viewer: Viewer) -> bool:
    """History and weekly reports: duty and partner."""
    return viewer.is_duty or viewer.is_partner or viewer.is_admin


def may_read_lagesbild(viewer: Viewer) -> bool:
    """The EST situation picture (page, CSV, PDF): duty, partner and admin; never field or association.

    It shows where things happen and where adults were not, which field members and clubs need not see.
    """
    return viewer.is_duty or viewer.is_partner or viewer.is_admin


# --- doing --------------------------------------------------------------------------------------


def may_override_level(viewer: Viewer) -> bool:
    """The EST group sets an area's level in the situation picture: duty and admins; the partner only reads it."""
    return viewer.is_duty or viewer.is_admin


def may_start_shift(viewer: Viewer, team_id: int) -> bool:
    """A field member starts and ends their own team's shift; duty and admins may for any team.

    Admins need it to end a shift someone forgot, which would otherwise keep sharing positions.
    """
    return viewer.is_duty or viewer.is_admin or (viewer.is_field and team_id in viewer.team_ids)


def may_report(viewer: Viewer) -> bool:
    """Positions and status: only a field member whose team is out."""
    return viewer.on_duty


def may_raise_alert(viewer: Viewer) -> bool:
    """A call for help: any field member, on shift or not (one who forgot to start it most of all)."""
    return viewer.is_field


def may_write_note(viewer: Viewer) -> bool:
    """Situation notes: field members on shift and duty officers."""
    return viewer.on_duty or viewer.is_duty


def may_acknowledge(viewer: Viewer) -> bool:
    """Acknowledge notes, acknowledge and resolve alerts: duty only (partner reads)."""
    return viewer.is_duty


def may_chat(viewer: Viewer, to: Audience) -> bool:
    """Writing to a channel needs the right to read it; partners never chat."""
    return (viewer.is_duty or viewer.is_field) and may_see(viewer, to)


def manageable_organizations(viewer: Viewer) -> Q:
    """The organisations may_manage_activity allows, as a filter on Organization."""
    return Q() if viewer.is_admin else Q(pk__in=viewer.association_org_ids)


def may_manage_activity(viewer: Viewer, organization_id: int) -> bool:
    """Association members manage their own organisation's activities; admins any."""
    return organization_id in viewer.association_org_ids or viewer.is_admin


def activity_filter(viewer: Viewer) -> Q:
    """The activities `viewer` may list: staff and admins all; others public ones and their own organisation's."""
    if may_read_live(viewer) or viewer.is_admin:
        return Q()
    return Q(visibility=Activity.Visibility.PUBLIC) | Q(organization_id__in=viewer.association_org_ids)


def may_read_chat(viewer: Viewer) -> bool:
    """Chat history: duty and field members (each channel is still filtered by may_see)."""
    return viewer.is_duty or viewer.is_field


def may_read_decisions(viewer: Viewer) -> bool:
    """The EST decisions of a week: those who read the situation picture (duty, partner, admin)."""
    return may_read_reports(viewer)


def may_record_decision(viewer: Viewer) -> bool:
    """Record or withdraw EST decisions: duty and admins, who keep the municipality's minutes.

    Not the partner: the police take part in the meeting and a decision may name them, but partner
    accounts are read-only everywhere (DESIGN.md: "read the live situation and the weekly reports").
    """
    return viewer.is_duty or viewer.is_admin


def may_use_association_page(viewer: Viewer) -> bool:
    return bool(viewer.association_org_ids) or viewer.is_admin


def may_moderate_reports(viewer: Viewer) -> bool:
    """Citizen reports in full (text, exact point, photo, e-mail): duty, dialogue officers and admins."""
    return viewer.is_duty or viewer.is_dialogue or viewer.is_admin


# --- accounts and devices -----------------------------------------------------------------------


def may_manage_devices(viewer: Viewer, *, owner_id: int) -> bool:
    """A person pairs and revokes their own tracker apps; an admin anyone's."""
    return viewer.user_id is not None and (viewer.user_id == owner_id or viewer.is_admin)


def may_own_tracker(owner: Viewer) -> bool:
    """Only field members send positions, so only they get a tracker app paired."""
    return owner.is_field


def must_use_second_factor(viewer: Viewer, *, is_staff: bool = False) -> bool:
    """Those who see every staff position or run the system sign in with a second factor.

    The roles come from OTP_REQUIRED_ROLES (duty, partner, admin by default); a superuser and anyone
    who may open Django's admin (is_staff) count as admins.
    """
    from django.conf import settings

    return bool(viewer.roles & set(settings.OTP_REQUIRED_ROLES)) or viewer.is_admin or is_staff
