"""Pages: organizations, members and invitations, teams, API tokens."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST, require_safe

from costsite.orgs import invitations, membership, tokens
from costsite.orgs import overview as overview_panels
from costsite.orgs.access import org_for_user
from costsite.orgs.audit_api import AuditEventFilter
from costsite.orgs.forms import InvitationForm, OrganizationForm, RoleForm, TeamForm, TokenForm
from costsite.orgs.models import AuditEvent, Invitation, Membership, Organization, Team
from costsite.orgs.roles import MANAGERS, Role
from costsite.paging import paged


def home(request):
    if not request.user.is_authenticated:
        return render(request, "orgs/landing.html")
    org = Organization.objects.for_user(request.user).order_by("name").first()
    if org is None:
        return redirect("orgs:create")
    return redirect("orgs:overview", org_slug=org.slug)


@login_required
def create_org(request):
    form = OrganizationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        org = membership.create_organization(owner=request.user, **form.cleaned_data)
        messages.success(request, f"Created {org.name}. You are its owner.")
        return redirect("orgs:overview", org_slug=org.slug)
    return render(request, "orgs/create.html", {"form": form})


@login_required
@require_safe
def overview(request, org_slug):
    org, me = org_for_user(request, org_slug)
    members = Membership.objects.for_org(org).select_related("user")
    teams = Team.objects.for_org(org).prefetch_related("members")
    return render(
        request,
        "orgs/overview.html",
        {
            "org": org,
            "me": me,
            "members": members,
            "teams": teams,
            "panels": overview_panels.render_panels(org, me),
        },
    )


@login_required
def settings_page(request, org_slug):
    org, me = org_for_user(request, org_slug, MANAGERS)
    form = OrganizationForm(request.POST or None, instance=org)
    if request.method == "POST" and form.is_valid():
        form.save()
        messages.success(request, "Settings saved.")
        return redirect("orgs:settings", org_slug=org.slug)
    return render(request, "orgs/settings.html", {"org": org, "me": me, "form": form})


@login_required
@require_safe
def audit_log(request, org_slug):
    org, me = org_for_user(request, org_slug, MANAGERS)
    events = AuditEventFilter(request.GET, queryset=AuditEvent.objects.for_org(org), org=org)
    page, query = paged(request, events.qs)
    return render(
        request,
        "orgs/audit.html",
        {
            "org": org,
            "me": me,
            "filter": events,
            "events": page,
            "members": Membership.objects.for_org(org).select_related("user"),
            "query": query,
        },
    )


# --- Members and invitations -------------------------------------------------------------------


@login_required
def members(request, org_slug):
    org, me = org_for_user(request, org_slug)
    invite_form, new_link, email_error = None, None, None
    if me.role in MANAGERS:
        invite_form = InvitationForm(request.POST or None, organization=org, actor=me)
        if request.method == "POST" and invite_form.is_valid():
            data = invite_form.cleaned_data
            invitation, secret = invitations.create_invitation(
                org, data["email"], data["role"], request.user
            )
            new_link = request.build_absolute_uri(reverse("orgs:accept-invitation", args=[secret]))
            email_error = invitations.send_invitation_email(invitation, new_link)
            invite_form = InvitationForm(organization=org, actor=me)
    elif request.method == "POST":
        raise PermissionDenied("Only owners and admins invite people.")
    context = {
        "org": org,
        "me": me,
        "members": Membership.objects.for_org(org).select_related("user"),
        "invitations": Invitation.objects.for_org(org).filter(
            accepted_at__isnull=True, revoked_at__isnull=True
        )
        if me.role in MANAGERS
        else [],
        "invite_form": invite_form,
        "new_link": new_link,
        "email_error": email_error,
        "roles": Role.choices,
    }
    return render(request, "orgs/members.html", context)


def _member(org, member_id):
    return get_object_or_404(Membership.objects.for_org(org).select_related("user"), pk=member_id)


@login_required
@require_POST
def change_role(request, org_slug, member_id):
    org, me = org_for_user(request, org_slug, MANAGERS)
    target = _member(org, member_id)
    form = RoleForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose a valid role.")
        return redirect("orgs:members", org_slug=org.slug)
    try:
        membership.change_role(me, target, form.cleaned_data["role"])
    except PermissionError as exc:
        raise PermissionDenied(str(exc)) from exc
    except membership.MembershipError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, f"{target.user.email} is now {form.cleaned_data['role']}.")
    return redirect("orgs:members", org_slug=org.slug)


@login_required
@require_POST
def remove_member(request, org_slug, member_id):
    org, me = org_for_user(request, org_slug)
    target = _member(org, member_id)
    leaving = target.pk == me.pk
    if not leaving and me.role not in MANAGERS:
        raise PermissionDenied("Only owners and admins remove members.")
    try:
        membership.remove_member(me, target)
    except PermissionError as exc:
        raise PermissionDenied(str(exc)) from exc
    except membership.MembershipError as exc:
        messages.error(request, str(exc))
        return redirect("orgs:members", org_slug=org.slug)
    if leaving:
        messages.success(request, f"You left {org.name}.")
        return redirect("home")
    messages.success(request, f"Removed {target.user.email}.")
    return redirect("orgs:members", org_slug=org.slug)


@login_required
@require_POST
def revoke_invitation(request, org_slug, invitation_id):
    org, _ = org_for_user(request, org_slug, MANAGERS)
    invitation = get_object_or_404(Invitation.objects.for_org(org), pk=invitation_id)
    invitations.revoke_invitation(invitation)
    messages.success(request, f"Revoked the invitation of {invitation.email}.")
    return redirect("orgs:members", org_slug=org.slug)


def accept_invitation(request, secret):
    """Anyone holding the link sees what it is for; accepting needs the invited account."""
    invitation = invitations.find_invitation(secret)
    error = None
    try:
        invitations.check_usable(
            invitation, request.user if request.user.is_authenticated else None
        )
    except invitations.InvitationError as exc:
        error = str(exc)
    if request.method == "POST" and error is None and request.user.is_authenticated:
        try:
            joined = invitations.accept_invitation(secret, request.user)
        except invitations.InvitationError as exc:
            error = str(exc)
        else:
            messages.success(request, f"Welcome to {joined.organization.name}.")
            return redirect("orgs:overview", org_slug=joined.organization.slug)
    return render(
        request,
        "orgs/accept_invitation.html",
        {"invitation": invitation if error is None else None, "error": error, "secret": secret},
        status=400 if error else 200,
    )


# --- Teams -------------------------------------------------------------------------------------


@login_required
def teams(request, org_slug):
    org, me = org_for_user(request, org_slug)
    form = None
    if me.role in MANAGERS:
        form = TeamForm(request.POST or None, organization=org)
        if request.method == "POST" and form.is_valid():
            team = form.save()
            messages.success(request, f"Created team {team.name}.")
            return redirect("orgs:team", org_slug=org.slug, team_id=team.pk)
    elif request.method == "POST":
        raise PermissionDenied("Only owners and admins manage teams.")
    all_teams = Team.objects.for_org(org).prefetch_related("members")
    return render(
        request, "orgs/teams.html", {"org": org, "me": me, "teams": all_teams, "form": form}
    )


@login_required
def team(request, org_slug, team_id):
    org, me = org_for_user(request, org_slug)
    the_team = get_object_or_404(Team.objects.for_org(org), pk=team_id)
    form = None
    if me.role in MANAGERS:
        form = TeamForm(request.POST or None, instance=the_team, organization=org)
        if request.method == "POST" and form.is_valid():
            form.save()
            messages.success(request, "Team saved.")
            return redirect("orgs:team", org_slug=org.slug, team_id=the_team.pk)
    elif request.method == "POST":
        raise PermissionDenied("Only owners and admins manage teams.")
    return render(request, "orgs/team.html", {"org": org, "me": me, "team": the_team, "form": form})


@login_required
@require_POST
def delete_team(request, org_slug, team_id):
    org, _ = org_for_user(request, org_slug, MANAGERS)
    the_team = get_object_or_404(Team.objects.for_org(org), pk=team_id)
    the_team.delete()
    messages.success(request, f"Deleted team {the_team.name}.")
    return redirect("orgs:teams", org_slug=org.slug)


# --- API tokens --------------------------------------------------------------------------------


@login_required
def api_tokens(request, org_slug):
    org, me = org_for_user(request, org_slug)
    form = TokenForm(request.POST or None)
    new_token = None
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        _, new_token = tokens.issue_token(
            org, request.user, data["name"], data["scope"], form.expires_at()
        )
        form = TokenForm()
    return render(
        request,
        "orgs/tokens.html",
        {
            "org": org,
            "me": me,
            "form": form,
            "new_token": new_token,
            "tokens": tokens.tokens_visible_to(me),
            "api_base": request.build_absolute_uri(f"/api/v1/orgs/{org.slug}/"),
        },
    )


@login_required
@require_POST
def revoke_token(request, org_slug, token_id):
    org, me = org_for_user(request, org_slug)
    token = get_object_or_404(tokens.tokens_visible_to(me), pk=token_id)
    tokens.revoke(token)
    messages.success(request, f"Revoked {token.name}.")
    return redirect("orgs:tokens", org_slug=org.slug)
