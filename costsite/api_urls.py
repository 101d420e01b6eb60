"""`/api/v1/`: the caller's organizations, and everything inside one at `orgs/<org>/...`."""

from django.urls import include, path

from costsite.notify.api import ChannelViewSet
from costsite.orgs.api import (
    ApiTokenViewSet,
    InvitationViewSet,
    MembershipViewSet,
    OrganizationViewSet,
    TeamViewSet,
)
from costsite.routers import OptionalSlashRouter

root = OptionalSlashRouter()
root.register("orgs", OrganizationViewSet, basename="organization")

org = OptionalSlashRouter()
org.register("members", MembershipViewSet, basename="membership")
org.register("invitations", InvitationViewSet, basename="invitation")
org.register("teams", TeamViewSet, basename="team")
org.register("tokens", ApiTokenViewSet, basename="apitoken")
org.register("channels", ChannelViewSet, basename="channel")

app_name = "api"
urlpatterns = [
    path("", include(root.urls)),
    path("orgs/<slug:org_slug>/", include(org.urls)),
]
