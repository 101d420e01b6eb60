"""Pages: budgets (list, detail with chart and alerts, edit, presets, alert rules), expenses
(list, add, delete, export), billing import with progress, reports."""

import csv
import itertools
from datetime import timedelta

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.http import HttpResponseBadRequest, QueryDict, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import content_disposition_header
from django.views.decorators.http import require_POST, require_safe

from budgets import allocation, charts, recording, reminders, saving
from budgets.alerts import queue_evaluation
from budgets.api import start_import
from budgets.figures import figures
from budgets.forms import (
    AlertRuleForm,
    BudgetForm,
    ExpenseForm,
    ImportForm,
    PresetForm,
    ReportForm,
    SnoozeForm,
)
from budgets.models import (
    Alert,
    AlertRule,
    Budget,
    Expense,
    ExpenseImport,
    ExpenseSource,
    PurchaseType,
)
from budgets.summary import SummaryError, SummaryQuery, summarize
from costsite.orgs import audit
from costsite.orgs.access import org_for_user
from costsite.orgs.models import AuditAction, Team
from costsite.orgs.roles import FINANCE_WRITERS, SPEND_WRITERS
from costsite.paging import paged
from costsite.params import filter_by_text, is_id
from costsite.periods import local_today


def budget_rows(org):
    """Every budget with its figures; allocations listed under their parent."""
    budgets = list(Budget.objects.for_org(org).select_related("team", "organization"))
    now = timezone.now()
    rows = {b.pk: {"budget": b, "figures": figures(b, now), "allocations": []} for b in budgets}
    top = []
    for budget in budgets:
        if budget.parent_id and budget.parent_id in rows:
            rows[budget.parent_id]["allocations"].append(rows[budget.pk])
        else:
            top.append(rows[budget.pk])
    return top


@login_required
@require_safe
def budget_list(request, org_slug):
    org, me = org_for_user(request, org_slug)
    return render(
        request,
        "budgets/list.html",
        {
            "org": org,
            "me": me,
            "rows": budget_rows(org),
            "can_edit": me.role in FINANCE_WRITERS,
        },
    )


def _budget(org, budget_id):
    return get_object_or_404(
        Budget.objects.for_org(org).select_related("organization", "team", "parent"), pk=budget_id
    )


@login_required
@require_safe
def budget_detail(request, org_slug, budget_id):
    org, me = org_for_user(request, org_slug)
    budget = _budget(org, budget_id)
    now = timezone.now()
    current = figures(budget, now)
    rules = AlertRule.objects.for_org(org).filter(budget=budget).prefetch_related("channels")
    return render(
        request,
        "budgets/detail.html",
        {
            "org": org,
            "me": me,
            "budget": budget,
            "figures": current,
            "data": current.as_dict(),
            "chart": charts.budget_chart(
                current.chart(local_today(org.time_zone, now)),
                [float(r.percent) for r in rules if r.kind == "actual"],
            ),
            "rules": rules,
            "alerts": Alert.objects.for_org(org)
            .filter(budget=budget)
            .select_related("acknowledged_by")[:50],
            "allocations": budget.allocations.all(),
            "changes": budget.changes.select_related("changed_by")[:30],
            "rule_form": AlertRuleForm(budget=budget) if me.role in FINANCE_WRITERS else None,
            "can_edit": me.role in FINANCE_WRITERS,
            "can_ack": me.role in SPEND_WRITERS,
            "snooze_form": SnoozeForm(auto_id=False),  # one per alert row: no repeated id
            "now": now,
        },
    )


def _save_budget_form(request, form):
    before = Budget.objects.get(pk=form.instance.pk) if form.instance.pk else None
    return saving.save(before, form.instance, form.save, request.user, "portal")


@login_required
def budget_create(request, org_slug):
    org, me = org_for_user(request, org_slug, FINANCE_WRITERS)
    form = BudgetForm(
        request.POST or None,
        organization=org,
        initial={"currency": org.currency, "period": "monthly"},
    )
    if request.method == "POST" and form.is_valid():
        try:
            budget = _save_budget_form(request, form)
        except allocation.AllocationError as exc:
            form.add_error(exc.field, str(exc))
        else:
            messages.success(request, f"Created {budget.name}.")
            return redirect("budgets:detail", org_slug=org.slug, budget_id=budget.pk)
    return render(
        request, "budgets/form.html", {"org": org, "me": me, "form": form, "title": "New budget"}
    )


@login_required
def budget_edit(request, org_slug, budget_id):
    org, me = org_for_user(request, org_slug, FINANCE_WRITERS)
    budget = _budget(org, budget_id)
    form = BudgetForm(request.POST or None, instance=budget, organization=org)
    if request.method == "POST" and form.is_valid():
        try:
            _save_budget_form(request, form)
        except allocation.AllocationError as exc:
            form.add_error(exc.field, str(exc))
        else:
            messages.success(request, "Budget saved.")
            return redirect("budgets:detail", org_slug=org.slug, budget_id=budget.pk)
    return render(
        request,
        "budgets/form.html",
        {"org": org, "me": me, "form": form, "title": f"Edit {budget.name}", "budget": budget},
    )


@login_required
@require_POST
def budget_delete(request, org_slug, budget_id):
    org, _ = org_for_user(request, org_slug, FINANCE_WRITERS)
    budget = _budget(org, budget_id)
    audit.record(org, AuditAction.BUDGET_DELETED, budget)
    budget.delete()
    messages.success(request, f"Deleted {budget.name} and its allocations.")
    return redirect("budgets:list", org_slug=org.slug)


@login_required
def preset_create(request, org_slug):
    org, me = org_for_user(request, org_slug, FINANCE_WRITERS)
    form = PresetForm(request.POST or None, organization=org)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        parent = allocation.create_preset(
            org,
            data["size"],
            data["name"],
            data.get("team"),
            org.currency,
            user=request.user,
            via="portal",
        )
        messages.success(
            request,
            f"Created {parent.name} with {len(allocation.PRESET_SPLIT)} "
            "allocations; edit any of them.",
        )
        return redirect("budgets:detail", org_slug=org.slug, budget_id=parent.pk)
    return render(
        request,
        "budgets/preset.html",
        {"org": org, "me": me, "form": form, "split": allocation.PRESET_SPLIT},
    )


@login_required
@require_POST
def rule_create(request, org_slug, budget_id):
    org, _ = org_for_user(request, org_slug, FINANCE_WRITERS)
    budget = _budget(org, budget_id)
    form = AlertRuleForm(request.POST, budget=budget)
    if form.is_valid():
        form.save()
        queue_evaluation(org.pk)
        messages.success(request, "Alert rule added.")
    else:
        messages.error(request, "; ".join(f"{k}: {' '.join(v)}" for k, v in form.errors.items()))
    return redirect("budgets:detail", org_slug=org.slug, budget_id=budget.pk)


@login_required
def rule_edit(request, org_slug, rule_id):
    org, me = org_for_user(request, org_slug, FINANCE_WRITERS)
    rule = get_object_or_404(
        AlertRule.objects.for_org(org).select_related("budget__organization"), pk=rule_id
    )
    data = request.POST if request.method == "POST" else None  # an empty POST: errors too
    form = AlertRuleForm(data, instance=rule, budget=rule.budget)
    if request.method == "POST" and form.is_valid():
        try:
            with transaction.atomic():  # the rule and its channels, or neither
                form.save()
        except IntegrityError:  # the same threshold added meanwhile
            form.add_error("percent", "This budget has that rule already.")
        else:
            queue_evaluation(org.pk)  # the new threshold may be crossed already
            messages.success(request, "Alert rule saved.")
            return redirect("budgets:detail", org_slug=org.slug, budget_id=rule.budget_id)
    return render(
        request,
        "budgets/rule_form.html",
        {"org": org, "me": me, "form": form, "rule": rule, "budget": rule.budget},
    )


@login_required
@require_POST
def rule_delete(request, org_slug, rule_id):
    org, _ = org_for_user(request, org_slug, FINANCE_WRITERS)
    rule = get_object_or_404(AlertRule.objects.for_org(org), pk=rule_id)
    rule.delete()
    return redirect("budgets:detail", org_slug=org.slug, budget_id=rule.budget_id)


@login_required
@require_POST
def alert_acknowledge(request, org_slug, alert_id):
    alert = _alert(request, org_slug, alert_id)
    reminders.acknowledge(alert, request.user)
    return redirect("budgets:detail", org_slug=org_slug, budget_id=alert.budget_id)


@login_required
@require_POST
def alert_snooze(request, org_slug, alert_id):
    alert = _alert(request, org_slug, alert_id)
    form = SnoozeForm(request.POST)
    if form.is_valid():
        reminders.snooze(alert, form.cleaned_data["hours"])
        messages.success(request, f"No reminder of this alert for {form['hours'].value()} h.")
    else:
        messages.error(request, "; ".join(" ".join(v) for v in form.errors.values()))
    return redirect("budgets:detail", org_slug=org_slug, budget_id=alert.budget_id)


def _alert(request, org_slug, alert_id) -> Alert:
    """An alert of the organization, for those who may acknowledge or snooze it."""
    org, _ = org_for_user(request, org_slug, SPEND_WRITERS)
    return get_object_or_404(Alert.objects.for_org(org), pk=alert_id)


# --- Expenses ----------------------------------------------------------------------------------


# The expense list's text filters; `team` (an id) and `page` come besides.
EXPENSE_FILTERS = ("provider", "service", "region", "purchase_type", "source", "currency")


def filtered_expenses(org, params):
    expenses = Expense.objects.for_org(org).select_related("team")
    for name in EXPENSE_FILTERS:
        if params.get(name):
            expenses = filter_by_text(expenses, **{name: params[name]})
    if is_id(params.get("team", "")):
        expenses = expenses.filter(team_id=int(params["team"]))
    return expenses


@login_required
def expense_list(request, org_slug):
    org, me = org_for_user(request, org_slug)
    form = None
    if me.role in SPEND_WRITERS:
        form = ExpenseForm(
            request.POST or None,
            organization=org,
            initial={"currency": org.currency, "incurred_at": timezone.now()},
        )
        if request.method == "POST" and form.is_valid():
            values = {k: v for k, v in form.cleaned_data.items()}
            recording.record(org, values, ExpenseSource.MANUAL, request.user)
            messages.success(request, "Expense recorded.")
            return redirect("budgets:expenses", org_slug=org.slug)
    elif request.method == "POST":
        raise PermissionDenied("Your role cannot record expenses.")
    page, query = paged(request, filtered_expenses(org, request.GET))
    return render(
        request,
        "budgets/expenses.html",
        {
            "org": org,
            "me": me,
            "form": form,
            "expenses": page,
            "filters": request.GET,
            "query": query,
            "teams": Team.objects.for_org(org),
            "purchase_types": PurchaseType.choices,
            "sources": ExpenseSource.choices,
            "can_delete": me.role in FINANCE_WRITERS,
        },
    )


def expense_list_url(org, params) -> str:
    """The expense list with the filters and page of `params` (nothing else: not a redirect
    to anywhere a query string names)."""
    query = QueryDict(mutable=True)
    for name in (*EXPENSE_FILTERS, "team", "page"):
        if params.get(name):
            query[name] = params[name]
    url = reverse("budgets:expenses", kwargs={"org_slug": org.slug})
    return f"{url}?{query.urlencode()}" if query else url


@login_required
@require_POST
def expense_delete(request, org_slug, expense_id):
    """Delete one expense as the API does (same roles, audit event, roll-ups, evaluation), back
    to the list with the filters of the query string the row's form posted to."""
    org, _ = org_for_user(request, org_slug, FINANCE_WRITERS)
    expense = get_object_or_404(Expense.objects.for_org(org), pk=expense_id)
    recording.delete(org, expense)
    messages.success(
        request, f"Deleted the expense of {expense.amount.normalize():f} {expense.currency}."
    )
    return redirect(expense_list_url(org, request.GET))


class Echo:
    def write(self, value):
        return value


def csv_response(filename, header, rows):
    writer = csv.writer(Echo())
    stream = (writer.writerow(row) for row in itertools.chain([header], rows))
    response = StreamingHttpResponse(stream, content_type="text/csv")
    # Quoted, or percent-encoded when it has more than printable ASCII (a tag key in it, say).
    response["Content-Disposition"] = content_disposition_header(True, filename)
    return response


@login_required
@require_safe
def expense_export(request, org_slug):
    org, _ = org_for_user(request, org_slug)
    expenses = filtered_expenses(org, request.GET).values_list(
        "incurred_at",
        "amount",
        "currency",
        "provider",
        "service",
        "region",
        "team__name",
        "purchase_type",
        "source",
        "external_id",
        "description",
    )
    return csv_response(
        f"{org.slug}-expenses.csv",
        [
            "incurred_at",
            "amount",
            "currency",
            "provider",
            "service",
            "region",
            "team",
            "purchase_type",
            "source",
            "external_id",
            "description",
        ],
        expenses.iterator(chunk_size=2000),
    )


@login_required
def import_page(request, org_slug):
    org, me = org_for_user(request, org_slug)
    form = None
    if me.role in SPEND_WRITERS:
        form = ImportForm(request.POST or None, request.FILES or None, organization=org)
        if request.method == "POST" and form.is_valid():
            batch = start_import(org, request.user, form.cleaned_data)
            return redirect("budgets:import-detail", org_slug=org.slug, import_id=batch.pk)
    elif request.method == "POST":
        raise PermissionDenied("Your role cannot import billing data.")
    return render(
        request,
        "budgets/import.html",
        {
            "org": org,
            "me": me,
            "form": form,
            "imports": ExpenseImport.objects.for_org(org)[:20],
        },
    )


@login_required
@require_safe
def import_detail(request, org_slug, import_id):
    org, me = org_for_user(request, org_slug)
    batch = get_object_or_404(ExpenseImport.objects.for_org(org), pk=import_id)
    return render(request, "budgets/import_detail.html", {"org": org, "me": me, "batch": batch})


# --- Reports -----------------------------------------------------------------------------------


def report_query(org, params):
    today = local_today(org.time_zone, timezone.now())
    form = ReportForm(
        params or None,
        initial={"start": today - timedelta(days=29), "end": today, "group_by": "provider"},
    )
    data = {
        "start": (today - timedelta(days=29)).isoformat(),
        "end": today.isoformat(),
        "group_by": "provider",
    }
    if params and form.is_valid():
        data = form.params()
    query = SummaryQuery.from_params(data, org)
    return form, query


@login_required
@require_safe
def reports(request, org_slug):
    org, me = org_for_user(request, org_slug)
    try:
        form, query = report_query(org, request.GET)
        result = summarize(org, query)
    except SummaryError as exc:
        form, result = ReportForm(request.GET), None
        form.add_error(None, str(exc))
    daily = (
        summarize(org, SummaryQuery(query.start, query.end, query.currency, group_by="day"))
        if result
        else None
    )
    return render(
        request,
        "budgets/reports.html",
        {
            "org": org,
            "me": me,
            "form": form,
            "result": result,
            "daily_chart": charts.daily_chart(daily) if daily else None,
            "group_chart": charts.groups_chart(result) if result else None,
            "export_query": request.GET.urlencode(),
        },
    )


@login_required
@require_safe
def report_export(request, org_slug):
    org, _ = org_for_user(request, org_slug)
    try:
        form, query = report_query(org, request.GET)
    except SummaryError as exc:
        return HttpResponseBadRequest(str(exc), content_type="text/plain; charset=utf-8")
    if form.errors:  # not the default report in place of the one asked for
        return HttpResponseBadRequest(
            form.errors.as_text(), content_type="text/plain; charset=utf-8"
        )
    result = summarize(org, query)
    return csv_response(
        f"{org.slug}-spend-by-{query.group_by.replace(':', '-')}.csv",
        [query.group_by, "total", "count", "currency"],
        ([g["key"], g["total"], g["count"], result["currency"]] for g in result["groups"]),
    )
