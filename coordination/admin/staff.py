"""Admin for people, organisations and teams, plus read-only views of what shifts produced.

Notes, alerts, chat and the audit log are records of what happened: the admin may read them but
not write them, since every such write belongs to a service that also logs and publishes an Event.
"""

from django import forms
from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin
from django.db.models import Count, Model, QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from coordination import services
from coordination.errors import ServiceError
from coordination.models import (
    Alert,
    AuditLog,
    ChatMessage,
    DeviceToken,
    EstDecision,
    Invitation,
    Membership,
    Organization,
    Role,
    Shift,
    SituationNote,
    Team,
)
from coordination.services import audit_record, device_token_revoke, shift_end

User = get_user_model()


class ReadOnlyAdmin(admin.ModelAdmin):
    """A view-only admin: lists and detail pages, no add, change or delete."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False


class HistoryAdmin(ReadOnlyAdmin):
    """A view-only history (notes, alerts, chat): every list and detail view is audit-logged."""

    def changelist_view(self, request: HttpRequest, extra_context=None):
        audit_record(user=request.user, action=f"admin.{self.model._meta.model_name}.list", detail=request.GET.dict())
        return super().changelist_view(request, extra_context)

    def change_view(self, request: HttpRequest, object_id: str, form_url: str = "", extra_context=None):
        audit_record(user=request.user, action=f"admin.{self.model._meta.model_name}.view", detail={"id": object_id})
        return super().change_view(request, object_id, form_url, extra_context)


# --- people and organisations -----------------------------------------------------------------------


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    autocomplete_fields = ("organization",)


class TeamMembershipInline(admin.TabularInline):
    """The teams a user walks in (the other side of Team.members)."""

    model = Team.members.through
    extra = 0
    verbose_name = _("team")
    verbose_name_plural = _("team")


admin.site.unregister(User)


@admin.register(User)
class NarvaroUserAdmin(UserAdmin):
    inlines = (MembershipInline, TeamMembershipInline)
    list_display = ("username", "first_name", "last_name", "roles", "team_names", "devices", "is_active", "is_staff")
    list_filter = ("memberships__role", "teams", "is_active", "is_staff", "is_superuser")

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        return super().get_queryset(request).prefetch_related("memberships__organization", "teams")

    @admin.display(description=_("roller"))
    def roles(self, user) -> str:
        return ", ".join(f"{m.get_role_display()} ({m.organization})" for m in user.memberships.all())

    @admin.display(description=_("team"))
    def team_names(self, user) -> str:
        return ", ".join(team.name for team in user.teams.all())

    @admin.display(description=_("enheter"))
    def devices(self, user) -> str:
        # The page where an admin pairs a tracker app for this person and revokes their devices.
        return format_html('<a href="{}">{}</a>', reverse("person_devices", args=[user.pk]), _("Koppla, återkalla"))


@admin.register(Organization)
class OrganizationAdmin(admin.ModelAdmin):
    list_display = ("name", "kind")
    list_filter = ("kind",)
    search_fields = ("name",)


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ("user", "organization", "role")
    list_filter = ("role", "organization")
    search_fields = ("user__username", "user__first_name", "user__last_name", "organization__name")
    autocomplete_fields = ("user", "organization")
    list_select_related = ("user", "organization")


@admin.register(Team)
class TeamAdmin(admin.ModelAdmin):
    list_display = ("name", "short", "organization", "member_count")
    list_filter = ("organization",)
    search_fields = ("name", "short")
    filter_horizontal = ("members",)
    list_select_related = ("organization",)

    def get_queryset(self, request: HttpRequest) -> QuerySet[Team]:
        return super().get_queryset(request).annotate(member_count=Count("members"))

    @admin.display(description=_("medlemmar"), ordering="member_count")
    def member_count(self, team: Team) -> int:
        return team.member_count


# --- shifts and what they produced ------------------------------------------------------------------


@admin.register(Shift)
class ShiftAdmin(ReadOnlyAdmin):
    # Starting and ending a shift is a broadcast event (and ending stops position sharing), so the
    # admin only reads, except for ending a shift someone forgot, through the same service.
    list_display = ("team", "started_at", "ended_at", "status", "started_by")
    list_filter = ("status", "team", ("ended_at", admin.EmptyFieldListFilter), "started_at")
    date_hierarchy = "started_at"
    list_select_related = ("team", "started_by")
    actions = ["end_shifts"]

    @admin.action(description=_("Avsluta valda pass"))
    def end_shifts(self, request: HttpRequest, queryset: QuerySet[Shift]) -> None:
        """End each selected active shift through shift_end, so its event reaches every map."""
        ended = 0
        for shift in queryset.filter(ended_at__isnull=True):
            try:
                shift_end(user=request.user, shift_id=shift.pk)
                ended += 1
            except ServiceError as error:
                self.message_user(request, f"{shift}: {error.message}", messages.ERROR)
        self.message_user(
            request,
            ngettext("%(count)d pass avslutades.", "%(count)d pass avslutades.", ended) % {"count": ended},
            messages.SUCCESS,
        )


@admin.register(SituationNote)
class SituationNoteAdmin(HistoryAdmin):
    list_display = ("created_at", "category", "severity", "youth_count", "area", "status", "author")
    list_filter = ("category", "severity", "status", "area", "created_at")
    search_fields = ("text",)
    date_hierarchy = "created_at"
    list_select_related = ("area", "author")


@admin.register(Alert)
class AlertAdmin(HistoryAdmin):
    list_display = ("raised_at", "status", "team", "author", "source", "level", "acknowledged_at", "resolved_at")
    list_filter = ("status", "source", "level", "raised_at")
    date_hierarchy = "raised_at"
    list_select_related = ("team", "author")


@admin.register(ChatMessage)
class ChatMessageAdmin(HistoryAdmin):
    list_display = ("created_at", "channel", "team", "area", "author", "text")
    list_filter = ("channel", "team", "created_at")
    search_fields = ("text",)
    date_hierarchy = "created_at"
    list_select_related = ("team", "area", "author")


@admin.register(AuditLog)
class AuditLogAdmin(ReadOnlyAdmin):
    list_display = ("at", "user", "action")
    list_filter = ("action", "at")
    search_fields = ("user__username", "action")
    date_hierarchy = "at"
    list_select_related = ("user",)


# --- device tokens ----------------------------------------------------------------------------------


@admin.register(DeviceToken)
class DeviceTokenAdmin(admin.ModelAdmin):
    # Tokens are issued by `manage.py device_token`, which shows the key once; the admin lists,
    # renames and revokes them.
    list_display = ("user", "name", "prefix", "created_at", "last_used_at", "revoked_at")
    list_filter = (("revoked_at", admin.EmptyFieldListFilter),)
    search_fields = ("user__username", "name", "prefix")
    list_select_related = ("user",)
    fields = ("user", "name", "prefix", "created_at", "last_used_at", "revoked_at")
    readonly_fields = ("user", "prefix", "created_at", "last_used_at", "revoked_at")
    actions = ("revoke",)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    @admin.action(description=_("Spärra valda enhetsnycklar"))
    def revoke(self, request: HttpRequest, queryset: QuerySet[DeviceToken]) -> None:
        """Revoke each selected token through the service, so revocation has one path."""
        tokens = list(queryset.filter(revoked_at__isnull=True))
        for token in tokens:
            device_token_revoke(token=token, actor=request.user, admin_site=True)
        self.message_user(
            request,
            ngettext("%(count)d enhetsnyckel spärrades.", "%(count)d enhetsnycklar spärrades.", len(tokens))
            % {"count": len(tokens)},
            messages.SUCCESS,
        )


@admin.register(EstDecision)
class EstDecisionAdmin(HistoryAdmin):
    """EST decisions, read-only: recorded and withdrawn on /lagesbild/<year>/v<week>/beslut/ (services.est)."""

    list_display = ("iso_year", "iso_week", "start_time", "end_time", "who", "team", "organization", "withdrawn_at")
    list_filter = ("iso_year", "iso_week", "who")
    filter_horizontal = ()


# --- invitations ------------------------------------------------------------------------------------


class InvitationForm(forms.ModelForm):
    class Meta:
        model = Invitation
        fields = ("email", "organization", "role", "team")

    def clean(self):
        data = super().clean()
        # The service refuses it too; said here, the admin shows it on the form.
        if data.get("team") and data.get("role") != Role.FIELD:
            self.add_error("team", _("Bara fältpersonal går i team."))
        return data


@admin.register(Invitation)
class InvitationAdmin(admin.ModelAdmin):
    """Invite a person by e-mail to a role in an organisation; the e-mail carries a link that expires."""

    list_display = ("email", "organization", "role", "team", "invited_by", "created_at", "accepted_at")
    list_filter = ("role", "organization", ("accepted_at", admin.EmptyFieldListFilter))
    search_fields = ("email",)
    form = InvitationForm
    fields = ("email", "organization", "role", "team")

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False  # an invitation is sent as it was made; make a new one instead

    def save_model(self, request: HttpRequest, obj: Invitation, form, change: bool) -> None:
        """Create and send through the service (audited), then let the admin log the row it made."""
        try:
            created = services.invitation_create(
                actor=request.user,
                email=obj.email,
                organization=obj.organization,
                role=obj.role,
                team=obj.team,
                link_for=lambda token: request.build_absolute_uri(reverse("invitation", args=[token])),
            )
        except ServiceError as error:
            self.message_user(request, error.message, messages.ERROR)
            return
        obj.pk = created.pk
        obj.created_at, obj.invited_by = created.created_at, created.invited_by
        self.message_user(request, _("Inbjudan skickades till %(email)s.") % {"email": created.email}, messages.SUCCESS)
