"""The audit log: each security-relevant action leaves one event with who, what, on which row
and from where; owners and admins read it on a page and through the API."""

import logging

import pytest

from costsite.notify import channels
from costsite.orgs.models import AuditAction, AuditEvent, Invitation, Membership
from costsite.orgs.roles import Role
from spot import idle
from tests.conftest import api_client, token_text
from tests.tenancy import new_budget, new_expense, new_idle_resource, new_token

A = AuditAction


def events(org, action=None):
    rows = AuditEvent.objects.for_org(org)
    return list(rows.filter(action=action) if action else rows)


def only(org, action):
    found = events(org, action)
    assert len(found) == 1, found
    return found[0]


@pytest.fixture
def owner(client, alice):
    client.force_login(alice)
    return client


def test_tokens_created_and_revoked_on_the_page(org_a, alice, owner):
    owner.post("/o/org-a/tokens/", {"name": "ci", "scope": "write"}, REMOTE_ADDR="203.0.113.9")
    created = only(org_a, A.TOKEN_CREATED)
    assert (created.actor, created.actor_email, created.ip) == (alice, alice.email, "203.0.113.9")
    assert created.target_type == "apitoken" and created.target_label.startswith("ci (cst_")
    assert created.details == {"scope": "write", "expires_at": None}
    owner.post(f"/o/org-a/tokens/{created.target_id}/revoke/")
    owner.post(f"/o/org-a/tokens/{created.target_id}/revoke/")  # already revoked: no event
    revoked = only(org_a, A.TOKEN_REVOKED)
    assert revoked.target_id == created.target_id and revoked.actor == alice


def test_role_change_and_removal(org_a, alice, bob, owner):
    bob_membership = Membership.objects.get(organization=org_a, user=bob)
    owner.post(f"/o/org-a/members/{bob_membership.pk}/role/", {"role": "admin"})
    changed = only(org_a, A.MEMBER_ROLE_CHANGED)
    assert changed.details == {"from": "viewer", "to": "admin"}
    assert (changed.actor, changed.target_label) == (alice, bob.email)
    owner.post(f"/o/org-a/members/{bob_membership.pk}/remove/")
    removed = only(org_a, A.MEMBER_REMOVED)
    assert removed.details == {"role": "admin", "left": False}
    assert removed.target_id == str(bob_membership.pk)


def test_leaving_is_recorded_as_the_members_own_action(org_a, bob, client):
    client.force_login(bob)
    me = Membership.objects.get(organization=org_a, user=bob)
    client.post(f"/o/org-a/members/{me.pk}/remove/")
    assert only(org_a, A.MEMBER_REMOVED).details == {"role": "viewer", "left": True}
    assert only(org_a, A.MEMBER_REMOVED).actor == bob


def test_invitations_created_and_revoked(org_a, alice, owner):
    owner.post("/o/org-a/members/", {"email": "new@example.com", "role": "member"})
    created = only(org_a, A.INVITATION_CREATED)
    assert (created.target_label, created.details) == ("new@example.com", {"role": "member"})
    invitation = Invitation.objects.for_org(org_a).get()
    assert invitation.digest not in repr(created.details)
    owner.post(f"/o/org-a/invitations/{invitation.pk}/revoke/")
    assert only(org_a, A.INVITATION_REVOKED).actor == alice


def test_channels_created_rotated_and_deleted(org_a, alice, owner, receiver):
    owner.post(
        "/o/org-a/channels/",
        {"name": "hook", "kind": "webhook", "target": receiver.url, "enabled": "1"},
    )
    created = only(org_a, A.CHANNEL_CREATED)
    assert (created.actor, created.details) == (alice, {"kind": "webhook"})
    owner.post(f"/o/org-a/channels/{created.target_id}/rotate-secret/")
    assert only(org_a, A.CHANNEL_SECRET_ROTATED).target_id == created.target_id
    owner.post(f"/o/org-a/channels/{created.target_id}/delete/")
    deleted = only(org_a, A.CHANNEL_DELETED)
    assert deleted.target_label.startswith("hook (") and deleted.actor == alice
    other = channels.create_channel(org_a, "mail", "email", "ops@example.com")
    response = api_client(user=alice).delete(f"/api/v1/orgs/org-a/channels/{other.pk}/")
    assert response.status_code == 204
    assert len(events(org_a, A.CHANNEL_DELETED)) == 2


def test_budget_deleted_on_the_page_and_through_the_api(org_a, alice, owner):
    budget = new_budget(org_a, alice)
    owner.post(f"/o/org-a/budgets/{budget.pk}/delete/")
    assert only(org_a, A.BUDGET_DELETED).target_label == budget.name
    other = new_budget(org_a, alice)
    token = token_text(org_a, alice, "write")
    response = api_client(token=token).delete(f"/api/v1/orgs/org-a/budgets/{other.pk}/")
    assert response.status_code == 204
    by_api = AuditEvent.objects.for_org(org_a).filter(action=A.BUDGET_DELETED).first()
    assert by_api.target_id == str(other.pk) and by_api.actor == alice
    assert by_api.details["via_token"].startswith("cst_") and "••••" in by_api.details["via_token"]


def test_expense_deleted_through_the_api(org_a, alice):
    expense = new_expense(org_a, alice)
    api_client(user=alice).delete(f"/api/v1/orgs/org-a/expenses/{expense.pk}/")
    assert only(org_a, A.EXPENSE_DELETED).target_id == str(expense.pk)


def test_idle_resource_deletions_keep_the_log_line_and_write_the_event(
    org_a, alice, monkeypatch, caplog
):
    gone, stuck = new_idle_resource(org_a, alice), new_idle_resource(org_a, alice)

    def fake_delete(client, resource):
        if resource.pk == stuck.pk:
            raise idle.IdleError("VolumeInUse")

    monkeypatch.setattr(idle, "ec2_client", lambda region: object())
    monkeypatch.setattr(idle, "_delete_in_aws", fake_delete)
    caplog.set_level(logging.INFO, logger="costsite.audit")
    idle.delete([gone, stuck], alice)
    deleted = only(org_a, A.IDLE_RESOURCE_DELETED)
    assert (deleted.target_id, deleted.actor) == (str(gone.pk), alice)
    assert deleted.details["monthly_cost"] == "8.0000" and deleted.ip is None
    failed = only(org_a, A.IDLE_RESOURCE_DELETE_FAILED)
    assert failed.details["error"] == "VolumeInUse"
    assert sum(r.name == "costsite.audit" for r in caplog.records) == 2


def test_the_page_lists_and_filters_events(org_a, org_b, alice, bob, charlie, owner):
    new_token(org_a, alice)
    new_token(org_a, bob)
    new_token(org_b, charlie)
    new_budget(org_a, alice).delete()
    page = owner.get("/o/org-a/settings/audit/")
    assert page.status_code == 200
    assert [e.actor for e in page.context["events"]] == [bob, alice]  # newest first, org A only
    mine = owner.get(f"/o/org-a/settings/audit/?actor={alice.pk}&action=token.created")
    assert [e.actor for e in mine.context["events"]] == [alice]
    bad = owner.get("/o/org-a/settings/audit/?action=nonsense")
    assert bad.status_code == 200 and "nonsense" in bad.content.decode()


def test_the_api_lists_and_filters_events(org_a, org_b, alice, bob, charlie, member):
    new_token(org_a, alice)
    new_token(org_a, bob)
    new_token(org_b, charlie)
    admin = member(org_a, Role.ADMIN)
    client = api_client(user=admin)
    url = "/api/v1/orgs/org-a/audit-events/"
    rows = client.get(url).json()["results"]
    assert [r["actor_email"] for r in rows] == [bob.email, alice.email]
    assert set(rows[0]) >= {"action", "actor", "ip", "target_type", "target_id", "details"}
    rows = client.get(url, {"actor": alice.pk}).json()["results"]
    assert [r["actor"] for r in rows] == [alice.pk]
    assert client.get(url, {"action": "member.removed"}).json()["results"] == []
    assert client.get(url, {"action": "nonsense"}).status_code == 400
    assert api_client(user=bob).get(url).status_code == 403


@pytest.mark.parametrize("actor", [str(10**23), str(2**63), "1e400", "1.5", "-1", "0"])
def test_an_actor_no_user_can_be_is_a_field_error(org_a, alice, owner, actor):
    new_token(org_a, alice)
    page = owner.get(f"/o/org-a/settings/audit/?actor={actor}")
    assert page.status_code == 200 and "actor" in page.context["filter"].errors
    response = api_client(user=alice).get(f"/api/v1/orgs/org-a/audit-events/?actor={actor}")
    assert response.status_code == 400 and "actor" in response.json()
    biggest = api_client(user=alice).get(f"/api/v1/orgs/org-a/audit-events/?actor={2**63 - 1}")
    assert biggest.status_code == 200 and biggest.json()["results"] == []


def test_events_outlive_their_actor(org_a, alice, bob):
    new_token(org_a, bob)
    bob.delete()
    event = only(org_a, A.TOKEN_CREATED)
    assert (event.actor, event.actor_email) == (None, "bob@a.example")


def test_deletions_in_the_admin_are_audited(org_a, alice, client):
    alice.is_staff = alice.is_superuser = True
    alice.save()
    client.force_login(alice)
    budget, expense = new_budget(org_a, alice), new_expense(org_a, alice)
    assert (
        client.post(f"/admin/budgets/budget/{budget.pk}/delete/", {"post": "yes"}).status_code
        == 302
    )
    selected = {"action": "delete_selected", "_selected_action": [expense.pk], "post": "yes"}
    assert client.post("/admin/budgets/expense/", selected).status_code == 302
    deleted_budget = only(org_a, A.BUDGET_DELETED)
    deleted_expense = only(org_a, A.EXPENSE_DELETED)
    assert (deleted_budget.actor, deleted_budget.target_id) == (alice, str(budget.pk))
    assert deleted_expense.target_id == str(expense.pk)
    assert deleted_budget.details == deleted_expense.details == {"via": "admin"}
    channel = channels.create_channel(org_a, "mail", "email", "ops@example.com")
    assert (
        client.post(f"/admin/notify/channel/{channel.pk}/delete/", {"post": "yes"}).status_code
        == 302
    )
    assert only(org_a, A.CHANNEL_DELETED).details == {"via": "admin"}
