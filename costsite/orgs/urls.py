from django.urls import path

from costsite.orgs import views

app_name = "orgs"
urlpatterns = [
    path("orgs/new/", views.create_org, name="create"),
    path("invite/<str:secret>/", views.accept_invitation, name="accept-invitation"),
    path("o/<slug:org_slug>/", views.overview, name="overview"),
    path("o/<slug:org_slug>/settings/", views.settings_page, name="settings"),
    path("o/<slug:org_slug>/settings/audit/", views.audit_log, name="audit"),
    path("o/<slug:org_slug>/members/", views.members, name="members"),
    path("o/<slug:org_slug>/members/<int:member_id>/role/", views.change_role, name="change-role"),
    path(
        "o/<slug:org_slug>/members/<int:member_id>/remove/",
        views.remove_member,
        name="remove-member",
    ),
    path(
        "o/<slug:org_slug>/invitations/<int:invitation_id>/revoke/",
        views.revoke_invitation,
        name="revoke-invitation",
    ),
    path("o/<slug:org_slug>/teams/", views.teams, name="teams"),
    path("o/<slug:org_slug>/teams/<int:team_id>/", views.team, name="team"),
    path("o/<slug:org_slug>/teams/<int:team_id>/delete/", views.delete_team, name="delete-team"),
    path("o/<slug:org_slug>/tokens/", views.api_tokens, name="tokens"),
    path(
        "o/<slug:org_slug>/tokens/<int:token_id>/revoke/", views.revoke_token, name="revoke-token"
    ),
]
