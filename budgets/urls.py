from django.urls import path

from budgets import views

app_name = "budgets"
urlpatterns = [
    path("budgets/", views.budget_list, name="list"),
    path("budgets/new/", views.budget_create, name="create"),
    path("budgets/presets/", views.preset_create, name="preset"),
    path("budgets/<int:budget_id>/", views.budget_detail, name="detail"),
    path("budgets/<int:budget_id>/edit/", views.budget_edit, name="edit"),
    path("budgets/<int:budget_id>/delete/", views.budget_delete, name="delete"),
    path("budgets/<int:budget_id>/rules/", views.rule_create, name="rule-create"),
    path("budgets/rules/<int:rule_id>/edit/", views.rule_edit, name="rule-edit"),
    path("budgets/rules/<int:rule_id>/delete/", views.rule_delete, name="rule-delete"),
    path(
        "budgets/alerts/<int:alert_id>/acknowledge/",
        views.alert_acknowledge,
        name="alert-acknowledge",
    ),
    path("budgets/alerts/<int:alert_id>/snooze/", views.alert_snooze, name="alert-snooze"),
    path("expenses/", views.expense_list, name="expenses"),
    path("expenses/<int:expense_id>/delete/", views.expense_delete, name="expense-delete"),
    path("expenses/export.csv", views.expense_export, name="expense-export"),
    path("expenses/import/", views.import_page, name="import"),
    path("expenses/imports/<int:import_id>/", views.import_detail, name="import-detail"),
    path("reports/", views.reports, name="reports"),
    path("reports/export.csv", views.report_export, name="report-export"),
]
