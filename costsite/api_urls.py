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
org.register("estimates/saved", SavedEstimateViewSet, basename="saved-estimate")
org.register("estimates/price-list/prices", OrgPriceViewSet, basename="org-price")
org.register("estimates/price-list/discounts", DiscountViewSet, basename="discount")
org.register("estimates/runs", TrainingRunViewSet, basename="training-run")
org.register("estimates", PlanningViewSet, basename="planning")
org.register("estimates/utilization", UtilizationViewSet, basename="utilization")
org.register("estimates/rightsizing", RightSizingViewSet, basename="rightsizing")
org.register("estimates", EstimatesViewSet, basename="estimates")
org.register("catalog", CatalogViewSet, basename="catalog")
org.register("spot/idle-scans", IdleScanViewSet, basename="idle-scan")
org.register("spot/idle-resources", IdleResourceViewSet, basename="idle-resource")
org.register("carbon/records", CarbonRecordViewSet, basename="carbon-record")
org.register("carbon/budgets", CarbonBudgetViewSet, basename="carbon-budget")
org.register("carbon/alerts", CarbonAlertViewSet, basename="carbon-alert")
org.register("carbon", CarbonViewSet, basename="carbon")
org.register("spot/fleets", FleetViewSet, basename="spot-fleet")
org.register("spot/events", InterruptionEventViewSet, basename="spot-event")
org.register("spot", SpotViewSet, basename="spot")

app_name = "api"
urlpatterns = [
    path("", include(root.urls)),
    path("orgs/<slug:org_slug>/", include(org.urls)),
]
