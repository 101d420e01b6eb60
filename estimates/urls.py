from django.urls import path

from estimates import planning_views, views
from estimates.rightsizing_views import rightsizing_page, utilization_samples

app_name = "estimates"
urlpatterns = [
    path("", views.estimate_page, name="estimate"),
    path("compare/", views.compare_page, name="compare"),
    path("commitments/", views.commitments_page, name="commitments"),
    path("ci-plan/", views.ci_plan_page, name="ci-plan"),
    path("planner/", planning_views.planner, name="planner"),
    path("runs/", planning_views.runs, name="runs"),
    path("runs/<int:run_id>/edit/", planning_views.run_edit, name="run-edit"),
    path("runs/<int:run_id>/delete/", planning_views.run_delete, name="run-delete"),
    path("saved/", views.saved_list, name="saved"),
    path("saved/<int:saved_id>/", views.saved_detail, name="saved-detail"),
    path("saved/<int:saved_id>/delete/", views.saved_delete, name="saved-delete"),
    path("catalogue/", views.catalogue, name="catalogue"),
    path("prices/", views.price_list, name="price-list"),
    path("prices/<int:price_id>/delete/", views.price_delete, name="price-delete"),
    path("discounts/<int:discount_id>/delete/", views.discount_delete, name="discount-delete"),
    path("rightsizing/", rightsizing_page, name="rightsizing"),
    path("utilization/", utilization_samples, name="utilization"),
]
