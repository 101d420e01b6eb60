from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from costsite import health
from costsite.orgs.views import home

urlpatterns = [
    path("", home, name="home"),
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path("admin/", admin.site.urls),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="api-docs"),
    path("api/v1/", include("costsite.api_urls")),
    path("accounts/", include("costsite.accounts.urls")),
    path("o/<slug:org_slug>/channels/", include("costsite.notify.urls")),
    path("o/<slug:org_slug>/estimates/", include("estimates.urls")),
    path("o/<slug:org_slug>/carbon/", include("carbon.urls")),
    path("o/<slug:org_slug>/spot/", include("spot.urls")),
    path("o/<slug:org_slug>/", include("budgets.urls")),
    path("", include("costsite.orgs.urls")),
]
