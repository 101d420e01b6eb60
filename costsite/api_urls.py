"""`/api/v1/`: the caller's organizations, and everything inside one at `orgs/<org>/...`."""

from django.urls import include, path

from budgets.api import (
    AlertRuleViewSet,
    AlertViewSet,
    BudgetViewSet,
    ExpenseViewSet,
    ImportViewSet,
)
from carbon.api import (
    CarbonAlertViewSet,
    CarbonBudgetViewSet,
    CarbonRecordViewSet,
    CarbonViewSet,
)
from costsite.notify.api import ChannelViewSet
from costsite.orgs.api import (
    ApiTokenViewSet,
    InvitationViewSet,
    MembershipViewSet,
    OrganizationViewSet,
    TeamViewSet,
)
from costsite.orgs.audit_api import AuditEventViewSet
from costsite.routers import OptionalSlashRouter
from estimates.api import (
    CatalogViewSet,
    DiscountViewSet,
    EstimatesViewSet,
    OrgPriceViewSet,
    SavedEstimateViewSet,
)
from estimates.planning_api import PlanningViewSet, TrainingRunViewSet
from estimates.utilization_api import RightSizingViewSet, UtilizationViewSet
from spot.api.advice import SpotViewSet
from spot.api.events import InterruptionEventViewSet
from spot.api.fleets import FleetViewSet
from spot.api.idle import IdleResourceViewSet, IdleScanViewSet

root = OptionalSlashRouter()
root.register("orgs", OrganizationViewSet, basename="organization")

# Inside an organization, one router per area under its own path prefix: Django tries URL
# patterns one by one, so a request is matched against its area's routes only. Within a router,
# longer prefixes come before "" (the area's own actions) unless said otherwise.
org = OptionalSlashRouter()
org.register("members", MembershipViewSet, basename="membership")
org.register("invitations", InvitationViewSet, basename="invitation")
org.register("teams", TeamViewSet, basename="team")
org.register("tokens", ApiTokenViewSet, basename="apitoken")
org.register("audit-events", AuditEventViewSet, basename="audit-event")
org.register("channels", ChannelViewSet, basename="channel")
org.register("budgets", BudgetViewSet, basename="budget")
org.register("alert-rules", AlertRuleViewSet, basename="alert-rule")
org.register("alerts", AlertViewSet, basename="alert")
org.register("expenses/imports", ImportViewSet, basename="expense-import")
org.register("expenses", ExpenseViewSet, basename="expense")
org.register("catalog", CatalogViewSet, basename="catalog")

estimates = OptionalSlashRouter()
# The computations first, the most called routes: they are actions only (no list or detail
# route on "" that could shadow the prefixes below).
estimates.register("", EstimatesViewSet, basename="estimates")
estimates.register("", PlanningViewSet, basename="planning")
estimates.register("saved", SavedEstimateViewSet, basename="saved-estimate")
estimates.register("price-list/prices", OrgPriceViewSet, basename="org-price")
estimates.register("price-list/discounts", DiscountViewSet, basename="discount")
estimates.register("runs", TrainingRunViewSet, basename="training-run")
estimates.register("utilization", UtilizationViewSet, basename="utilization")
estimates.register("rightsizing", RightSizingViewSet, basename="rightsizing")

carbon = OptionalSlashRouter()
carbon.register("records", CarbonRecordViewSet, basename="carbon-record")
carbon.register("budgets", CarbonBudgetViewSet, basename="carbon-budget")
carbon.register("alerts", CarbonAlertViewSet, basename="carbon-alert")
carbon.register("", CarbonViewSet, basename="carbon")

spot = OptionalSlashRouter()
spot.register("idle-scans", IdleScanViewSet, basename="idle-scan")
spot.register("idle-resources", IdleResourceViewSet, basename="idle-resource")
spot.register("fleets", FleetViewSet, basename="spot-fleet")
spot.register("events", InterruptionEventViewSet, basename="spot-event")
spot.register("", SpotViewSet, basename="spot")

app_name = "api"
urlpatterns = [
    path("orgs/<slug:org_slug>/estimates/", include(estimates.urls)),
    path("orgs/<slug:org_slug>/carbon/", include(carbon.urls)),
    path("orgs/<slug:org_slug>/spot/", include(spot.urls)),
    path("orgs/<slug:org_slug>/", include(org.urls)),
    path("", include(root.urls)),
]
