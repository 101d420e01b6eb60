"""The audit log in Django admin: superusers read it; nobody adds, changes or deletes events
there (the log is append-only); staff who are not superusers and everyone else are refused."""

import pytest

from costsite.orgs import invitations
from costsite.orgs.models import AuditAction, AuditEvent
from costsite.orgs.roles import Role

LIST = "/admin/orgs/auditevent/"


def change_url(event):
    return f"{LIST}{event.pk}/change/"


def delete_url(event):
    return f"{LIST}{event.pk}/delete/"


@pytest.fixture
def events(org_a, org_b, alice, charlie):
    """One event in each organization, written by the application."""
    invitations.create_invitation(org_a, "dana@example.com", Role.MEMBER, alice)
    invitations.create_invitation(org_b, "erin@example.com", Role.ADMIN, charlie)
    return (
        AuditEvent.objects.for_org(org_a).get(target_label="dana@example.com"),
        AuditEvent.objects.for_org(org_b).get(target_label="erin@example.com"),
    )


@pytest.fixture
def superuser(alice):
    alice.is_staff = alice.is_superuser = True
    alice.save()
    return alice


def snapshot():
    return list(AuditEvent.objects.order_by("pk").values())


# --- superusers read ---------------------------------------------------------------------------


def test_superuser_sees_every_organizations_events(client, superuser, events):
    client.force_login(superuser)
    response = client.get(LIST)
    assert response.status_code == 200
    page = response.content.decode()
    assert "dana@example.com" in page and "erin@example.com" in page
    assert [e.pk for e in response.context["cl"].result_list] == [e.pk for e in events[::-1]]


def test_superuser_opens_an_event_read_only(client, superuser, events):
    client.force_login(superuser)
    response = client.get(change_url(events[0]))
    assert response.status_code == 200
    page = response.content.decode()
    assert "dana@example.com" in page
    assert 'name="_save"' not in page and 'name="_continue"' not in page
    assert response.context["has_change_permission"] is False
    assert response.context["has_delete_permission"] is False


def test_superuser_can_filter_and_search(client, superuser, events):
    client.force_login(superuser)
    found = client.get(LIST, {"q": "org-b"}).context["cl"].result_list
    assert [e.pk for e in found] == [events[1].pk]
    filtered = client.get(LIST, {"action__exact": AuditAction.INVITATION_CREATED})
    assert {e.pk for e in filtered.context["cl"].result_list} == {e.pk for e in events}


# --- nobody writes -----------------------------------------------------------------------------


def test_nobody_adds_events_in_admin(client, superuser, org_a, events):
    client.force_login(superuser)
    before = snapshot()
    assert client.get(f"{LIST}add/").status_code == 403
    body = {
        "organization": org_a.pk,
        "action": AuditAction.INVITATION_CREATED,
        "target_type": "invitation",
        "target_label": "forged@example.com",
        "details": "{}",
        "created_at_0": "2026-01-01",
        "created_at_1": "00:00:00",
    }
    assert client.post(f"{LIST}add/", body).status_code == 403
    assert snapshot() == before
    assert 'href="/admin/orgs/auditevent/add/"' not in client.get(LIST).content.decode()


def test_nobody_changes_events_in_admin(client, superuser, events):
    client.force_login(superuser)
    event = events[0]
    before = snapshot()
    body = {
        "organization": event.organization_id,
        "actor_email": "someone-else@example.com",
        "action": AuditAction.MEMBER_REMOVED,
        "target_type": event.target_type,
        "target_label": "rewritten",
        "details": "{}",
        "created_at_0": "2020-01-01",
        "created_at_1": "00:00:00",
        "_save": "Save",
    }
    assert client.post(change_url(event), body).status_code == 403
    assert snapshot() == before


def test_nobody_deletes_events_in_admin(client, superuser, events):
    client.force_login(superuser)
    before = snapshot()
    assert client.get(delete_url(events[0])).status_code == 403
    assert client.post(delete_url(events[0]), {"post": "yes"}).status_code == 403
    assert snapshot() == before


def test_bulk_delete_is_not_offered_and_does_nothing(client, superuser, events):
    client.force_login(superuser)
    before = snapshot()
    action_form = client.get(LIST).context["action_form"]  # None when no action is offered
    offered = dict(action_form.fields["action"].choices) if action_form else {}
    assert "delete_selected" not in offered
    selected = {
        "action": "delete_selected",
        "_selected_action": [e.pk for e in events],
        "post": "yes",
    }
    client.post(LIST, selected)
    assert snapshot() == before


def test_the_admin_class_refuses_writes_even_to_superusers(rf, superuser, events):
    """The permissions themselves, as Django admin asks them (also for inlines and actions)."""
    from django.contrib import admin

    model_admin = admin.site._registry[AuditEvent]
    request = rf.get(LIST)
    request.user = superuser
    assert model_admin.has_view_permission(request, events[0])
    assert not model_admin.has_add_permission(request)
    assert not model_admin.has_change_permission(request)
    assert not model_admin.has_change_permission(request, events[0])
    assert not model_admin.has_delete_permission(request)
    assert not model_admin.has_delete_permission(request, events[0])
    assert "delete_selected" not in model_admin.get_actions(request)


# --- others are refused ------------------------------------------------------------------------


def test_staff_who_are_not_superusers_are_refused(client, finance_a, events):
    client.force_login(finance_a)
    assert client.get("/admin/").status_code == 200  # they do reach the admin site
    assert "/admin/orgs/auditevent/" not in client.get("/admin/").content.decode()
    assert client.get(LIST).status_code == 403
    assert client.get(change_url(events[0])).status_code == 403
    before = snapshot()
    assert client.post(delete_url(events[0]), {"post": "yes"}).status_code == 403
    assert snapshot() == before


def test_signed_in_non_staff_are_sent_to_the_admin_login(client, bob, events):
    client.force_login(bob)
    for url in (LIST, change_url(events[0])):
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith("/admin/login/")
    before = snapshot()
    response = client.post(delete_url(events[0]), {"post": "yes"})
    assert response.status_code == 302 and response["Location"].startswith("/admin/login/")
    assert snapshot() == before


def test_anonymous_are_sent_to_the_admin_login(client, events):
    response = client.get(LIST)
    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")
    assert "dana@example.com" not in response.content.decode()
