from django.urls import path

from carbon import views

app_name = "carbon"
urlpatterns = [
    path("", views.footprint_page, name="footprint"),
    path("green-regions/", views.green_regions_page, name="green-regions"),
    path("dashboard/", views.dashboard, name="dashboard"),
    path("budgets/<int:budget_id>/edit/", views.budget_edit, name="budget-edit"),
    path("budgets/<int:budget_id>/delete/", views.budget_delete, name="budget-delete"),
    path("records/", views.record_list, name="records"),
    path("records/<int:record_id>/delete/", views.record_delete, name="record-delete"),
]
