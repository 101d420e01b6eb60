"""REST API: budgets (with their figures), alert rules, alerts, expenses, imports, summary."""

import copy
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
)
from rest_framework import exceptions, mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.response import Response

from budgets import allocation, forms, importer, recording, reminders, saving, summary
from budgets.alerts import queue_evaluation
from budgets.figures import figures
from budgets.models import (
    Alert,
    AlertRule,
    Budget,
    Expense,
    ExpenseImport,
    ExpenseSource,
)
from costsite.orgs import audit
from costsite.orgs.api import LIST_ERRORS, READ_ERRORS, WRITE_ERRORS, crud_schema
from costsite.orgs.models import AuditAction, Team
from costsite.orgs.roles import FINANCE_WRITERS, SPEND_WRITERS
from costsite.orgs.viewsets import (
    OrgPrimaryKeyField,
    OrgScopedFieldsMixin,
    OrgScopedModelViewSet,
    OrgScopedSerializer,
    OrgScopedViewSet,
)
from costsite.periods import Period, check_plausible_time

MAX_AMOUNT = Decimal("1000000000000")


def currency_code(value: str) -> str:
    try:
        return forms.currency_code(value)
    except DjangoValidationError as exc:
        raise serializers.ValidationError(exc.messages) from exc


def tag_key(value: str) -> str:
    try:
        return forms.tag_key(value)
    except DjangoValidationError as exc:
        raise serializers.ValidationError(exc.messages) from exc


# --- Budgets -----------------------------------------------------------------------------------


class BudgetSerializer(OrgScopedSerializer):
    amount = serializers.DecimalField(
        max_digits=14, decimal_places=2, min_value=Decimal("0.01"), max_value=MAX_AMOUNT
    )
    figures = serializers.SerializerMethodField(
        help_text="spent, remaining, percent_used, burn_rate_per_day, forecast (expected, low, "
        "high), exhausted_on, status, period_start/end for the current period."
    )

    class Meta:
        model = Budget
        fields = [
            "id",
            "name",
            "team",
            "parent",
            "activity",
            "amount",
            "currency",
            "period",
            "start",
            "end",
            "scope_provider",
            "scope_service_category",
            "scope_region",
            "scope_tag_key",
            "scope_tag_value",
            "figures",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["id", "figures", "created_at", "updated_at"]

    def get_figures(self, budget) -> dict:
        return figures(budget).as_dict()

    def validate_currency(self, value):
        return currency_code(value)

    def validate_scope_tag_key(self, value):
        return tag_key(value)

    def validate(self, attrs):
        def value(name):
            return attrs.get(name, getattr(self.instance, name, None))

        period = value("period") or Period.MONTHLY
        if period == Period.CUSTOM:
            start, end = value("start"), value("end")
            if not start or not end:
                raise serializers.ValidationError({"end": ["A custom period needs start and end."]})
            if end < start:
                raise serializers.ValidationError({"end": ["The end is before the start."]})
        if bool(value("scope_tag_key")) != bool(value("scope_tag_value")):
            raise serializers.ValidationError(
                {"scope_tag_value": ["Give both the tag key and its value, or neither."]}
            )
        try:
            allocation.check(
                self.instance.pk if self.instance else None,
                value("parent"),
                value("amount"),
                value("currency") or "USD",
                period,
            )
        except allocation.AllocationError as exc:
            raise serializers.ValidationError({exc.field: [str(exc)]}) from exc
        return attrs


class PresetSerializer(OrgScopedFieldsMixin, serializers.Serializer):
    size = serializers.ChoiceField(choices=list(allocation.PRESET_TOTALS))
    name = serializers.CharField(max_length=allocation.PRESET_NAME_LENGTH)
    team = OrgPrimaryKeyField(queryset=Team.objects.all(), required=False)
    currency = serializers.CharField(max_length=3, default="USD")

    def validate_currency(self, value):
        return currency_code(value)


def save_budget(serializer, view):
    """Save through budgets.saving (locked allocation check, history, alert re-evaluation)."""
    before = serializer.instance
    after = copy.copy(before) if before else Budget()
    for name, value in serializer.validated_data.items():
        setattr(after, name, value)
    try:
        saving.save(
            before,
            after,
            lambda: serializer.save(organization=view.org),
            view.request.user,
            "api",
        )
    except allocation.AllocationError as exc:
        raise exceptions.ValidationError({exc.field: [str(exc)]}) from exc


@crud_schema(BudgetSerializer)
class BudgetViewSet(OrgScopedModelViewSet):
    """Budgets and their allocations; owners, admins and finance write."""

    queryset = Budget.objects.select_related("organization")
    serializer_class = BudgetSerializer
    write_roles = FINANCE_WRITERS
    filterset_fields = ["team", "parent", "period"]

    def perform_create(self, serializer):
        save_budget(serializer, self)

    def perform_update(self, serializer):
        save_budget(serializer, self)

    def perform_destroy(self, instance):
        audit.record(self.org, AuditAction.BUDGET_DELETED, instance)
        instance.delete()

    @extend_schema(
        request=PresetSerializer,
        responses={201: BudgetSerializer, **WRITE_ERRORS},
        description="Create a monthly GPU CI budget from a team-size preset (small $500, "
        "medium $2,000, large $10,000) with allocations for smoke/unit tests 15%, integration "
        "tests 25%, benchmarks 25%, accelerator validation 20%, on-demand debugging 15%.",
    )
    @action(detail=False, methods=["post"])
    def presets(self, request, *args, **kwargs):
        form = PresetSerializer(data=request.data, context=self.get_serializer_context())
        form.is_valid(raise_exception=True)
        data = form.validated_data
        parent = allocation.create_preset(
            self.org,
            data["size"],
            data["name"],
            data.get("team"),
            data["currency"],
            user=request.user,
            via="api",
        )
        return Response(self.get_serializer(parent).data, status=status.HTTP_201_CREATED)


# --- Alert rules and alerts --------------------------------------------------------------------


class AlertRuleSerializer(OrgScopedSerializer):
    class Meta:
        model = AlertRule
        fields = ["id", "budget", "percent", "kind", "channels", "created_at"]
        read_only_fields = ["id", "created_at"]

    def validate(self, attrs):
        budget = attrs.get("budget", getattr(self.instance, "budget", None))
        kind = attrs.get("kind", getattr(self.instance, "kind", "actual"))
        percent = attrs.get("percent", getattr(self.instance, "percent", None))
        clash = AlertRule.objects.filter(budget=budget, kind=kind, percent=percent)
        if self.instance is not None:
            clash = clash.exclude(pk=self.instance.pk)
        if clash.exists():
            raise serializers.ValidationError({"percent": ["This budget has that rule already."]})
        return attrs


@crud_schema(AlertRuleSerializer)
class AlertRuleViewSet(OrgScopedModelViewSet):
    queryset = AlertRule.objects.prefetch_related("channels")
    serializer_class = AlertRuleSerializer
    write_roles = FINANCE_WRITERS
    filterset_fields = ["budget", "kind"]

    def perform_create(self, serializer):
        super().perform_create(serializer)
        queue_evaluation(self.org.pk)

    def perform_update(self, serializer):
        super().perform_update(serializer)
        queue_evaluation(self.org.pk)  # the new threshold may be crossed already


class AlertSerializer(serializers.ModelSerializer):
    budget_name = serializers.CharField(source="budget.name", read_only=True)
    acknowledged_by = serializers.EmailField(
        source="acknowledged_by.email", read_only=True, default=None, allow_null=True
    )

    class Meta:
        model = Alert
        fields = [
            "id",
            "rule",
            "budget",
            "budget_name",
            "kind",
            "percent",
            "period_start",
            "period_end",
            "spent",
            "forecast",
            "amount",
            "currency",
            "fired_at",
            "acknowledged_at",
            "acknowledged_by",
            "snoozed_until",
            "reminded_at",
        ]
        read_only_fields = fields


class SnoozeSerializer(serializers.Serializer):
    hours = serializers.IntegerField(
        min_value=1,
        max_value=reminders.MAX_SNOOZE_HOURS,
        help_text="No reminder of the alert before then.",
    )


@extend_schema_view(
    list=extend_schema(responses={200: AlertSerializer(many=True), **LIST_ERRORS}),
    retrieve=extend_schema(responses={200: AlertSerializer, **READ_ERRORS}),
)
class AlertViewSet(OrgScopedViewSet, mixins.ListModelMixin, mixins.RetrieveModelMixin):
    """Alerts fired by the rules: at most one per rule per budget period."""

    queryset = Alert.objects.select_related("budget", "acknowledged_by")
    serializer_class = AlertSerializer
    write_roles = SPEND_WRITERS
    filterset_fields = ["budget", "kind"]

    @extend_schema(request=None, responses={200: AlertSerializer, **READ_ERRORS})
    @action(detail=True, methods=["post"])
    def acknowledge(self, request, *args, **kwargs):
        alert = self.get_object()
        reminders.acknowledge(alert, request.user)
        alert.refresh_from_db()
        return Response(AlertSerializer(alert).data)

    @extend_schema(request=SnoozeSerializer, responses={200: AlertSerializer, **WRITE_ERRORS})
    @action(detail=True, methods=["post"])
    def snooze(self, request, *args, **kwargs):
        alert = self.get_object()
        form = SnoozeSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        reminders.snooze(alert, form.validated_data["hours"])
        return Response(AlertSerializer(alert).data)


# --- Expenses ----------------------------------------------------------------------------------


class ExpenseSerializer(OrgScopedSerializer):
    amount = serializers.DecimalField(
        max_digits=24, decimal_places=12, min_value=-MAX_AMOUNT, max_value=MAX_AMOUNT
    )
    incurred_at = serializers.DateTimeField(
        required=False, help_text="When the spend happened (or the charge period start)."
    )
    charge_period_start = serializers.DateTimeField(required=False, write_only=True)
    tags = serializers.DictField(
        child=serializers.CharField(max_length=500), required=False, allow_empty=True
    )

    class Meta:
        model = Expense
        fields = [
            "id",
            "team",
            "amount",
            "currency",
            "provider",
            "service",
            "service_category",
            "region",
            "resource_id",
            "tags",
            "incurred_at",
            "charge_period_start",
            "charge_period_end",
            "purchase_type",
            "source",
            "external_id",
            "description",
            "created_at",
        ]
        read_only_fields = ["id", "source", "created_at"]

    def validate_currency(self, value):
        return currency_code(value)

    def validate_tags(self, value):
        if len(value) > 50:
            raise serializers.ValidationError("At most 50 tags.")
        return value

    def validate(self, attrs):
        start = attrs.pop("charge_period_start", None)
        attrs["incurred_at"] = attrs.get("incurred_at") or start
        if not attrs["incurred_at"] and self.instance is None:
            raise serializers.ValidationError(
                {"incurred_at": ["Give incurred_at or charge_period_start."]}
            )
        when = attrs.get("incurred_at")
        end = attrs.get("charge_period_end")
        for field, value in (("incurred_at", when), ("charge_period_end", end)):
            try:
                if value:
                    check_plausible_time(value)
            except DjangoValidationError as exc:
                raise serializers.ValidationError({field: exc.messages}) from exc
        if end and when and end < when:
            raise serializers.ValidationError({"charge_period_end": ["Before the start."]})
        if attrs.get("amount") == 0:
            raise serializers.ValidationError({"amount": ["An expense of zero records nothing."]})
        return attrs


class BulkExpensesSerializer(serializers.Serializer):
    expenses = ExpenseSerializer(many=True, allow_empty=False, max_length=1000)


class ImportSerializer(serializers.ModelSerializer):
    percent_done = serializers.IntegerField(
        read_only=True, help_text="Share of the file read so far; 100 once finished."
    )

    class Meta:
        model = ExpenseImport
        fields = [
            "id",
            "filename",
            "status",
            "cost_column",
            "team",
            "rows_total",
            "rows_processed",
            "rows_imported",
            "rows_skipped",
            "rows_rejected",
            "attempts",
            "bytes_total",
            "bytes_read",
            "percent_done",
            "errors",
            "created_at",
            "started_at",
            "finished_at",
        ]
        read_only_fields = fields


class ImportUploadSerializer(OrgScopedSerializer):
    file = serializers.FileField(help_text="FOCUS 1.0–1.2 CSV, or .csv.gz")
    cost_column = serializers.ChoiceField(
        choices=["BilledCost", "EffectiveCost"], default="BilledCost"
    )

    class Meta:
        model = ExpenseImport
        fields = ["file", "cost_column", "team"]

    def validate_file(self, upload):
        limit = settings.COSTSITE_MAX_IMPORT_MB * 1024 * 1024
        if upload.size > limit:
            raise serializers.ValidationError(
                f"The file is larger than {settings.COSTSITE_MAX_IMPORT_MB} MB."
            )
        return upload


def start_import(org, user, data) -> ExpenseImport:
    batch = ExpenseImport.objects.create(
        organization=org,
        created_by=user,
        filename=data["file"].name[:255],
        file=data["file"],
        bytes_total=data["file"].size,
        cost_column=data["cost_column"],
        team=data.get("team"),
    )
    transaction.on_commit(lambda: importer.queue(batch))
    return batch


DAY_PARAMS = [
    OpenApiParameter(
        "start", OpenApiTypes.DATE, description="First day (organization's time zone)"
    ),
    OpenApiParameter("end", OpenApiTypes.DATE, description="Last day, inclusive"),
    OpenApiParameter("provider", str),
    OpenApiParameter("team", int),
    OpenApiParameter("tag", str, description="key=value"),
    OpenApiParameter("currency", str, description="Default: the organization's currency"),
    OpenApiParameter("group_by", str, enum=[*summary.GROUPS, "tag:<key>"]),
]


@extend_schema_view(
    list=extend_schema(responses={200: ExpenseSerializer(many=True), **LIST_ERRORS}),
    retrieve=extend_schema(responses={200: ExpenseSerializer, **READ_ERRORS}),
    create=extend_schema(
        parameters=[OpenApiParameter("Idempotency-Key", str, OpenApiParameter.HEADER)],
        description="Record one expense. With `external_id` (or an `Idempotency-Key` header) a "
        "retry returns the stored expense with 200 instead of charging twice.",
        responses={201: ExpenseSerializer, 200: ExpenseSerializer, **WRITE_ERRORS},
    ),
    destroy=extend_schema(responses={204: None, **READ_ERRORS}),
)
class ExpenseViewSet(
    OrgScopedViewSet,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.DestroyModelMixin,
):
    queryset = Expense.objects.all()
    serializer_class = ExpenseSerializer
    write_roles = SPEND_WRITERS
    action_roles = {"destroy": FINANCE_WRITERS}
    filterset_fields = [
        "team",
        "provider",
        "service",
        "region",
        "purchase_type",
        "source",
        "currency",
    ]
    parser_classes = [JSONParser, MultiPartParser, FormParser]

    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        values = dict(serializer.validated_data)
        key = request.headers.get("Idempotency-Key", "").strip()
        if key and not values.get("external_id"):
            values["external_id"] = f"idempotency:{key[:150]}"
        source = ExpenseSource.API if request.auth is not None else ExpenseSource.MANUAL
        expense, created = recording.record(self.org, values, source, request.user)
        return Response(
            ExpenseSerializer(expense, context=self.get_serializer_context()).data,
            status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
        )

    def perform_destroy(self, instance):
        recording.delete(self.org, instance)

    @extend_schema(
        request=BulkExpensesSerializer,
        responses={201: OpenApiTypes.OBJECT, **WRITE_ERRORS},
        description="Record up to 1,000 expenses atomically: all or none, with field errors "
        "per row (`expenses[i]`). Rows whose external_id is already stored are skipped.",
    )
    @action(detail=False, methods=["post"])
    def bulk(self, request, *args, **kwargs):
        form = BulkExpensesSerializer(data=request.data, context=self.get_serializer_context())
        form.is_valid(raise_exception=True)
        source = ExpenseSource.API if request.auth is not None else ExpenseSource.MANUAL
        results = recording.record_many(
            self.org, form.validated_data["expenses"], source, request.user
        )
        return Response(
            {
                "created": sum(1 for _, created in results if created),
                "duplicates": sum(1 for _, created in results if not created),
                "ids": [expense.pk for expense, _ in results],
            },
            status=status.HTTP_201_CREATED,
        )

    @extend_schema(
        parameters=DAY_PARAMS,
        responses={
            200: OpenApiTypes.OBJECT,
            400: OpenApiResponse(description="Bad filter."),
            **READ_ERRORS,
        },
        description="Total, count and groups of spend over a range, aggregated in the database.",
    )
    @action(detail=False, methods=["get"])
    def summary(self, request, *args, **kwargs):
        try:
            query = summary.SummaryQuery.from_params(request.query_params, self.org)
        except summary.SummaryError as exc:
            raise exceptions.ValidationError({exc.field: [str(exc)]}) from exc
        return Response(summary.summarize(self.org, query))

    @extend_schema(
        request={"multipart/form-data": ImportUploadSerializer},
        responses={202: ImportSerializer, **WRITE_ERRORS},
        description="Import a FOCUS billing export (.csv or .csv.gz) in the background; poll "
        "`imports/<id>/`. A file with a bad row is rejected whole; re-imports add nothing.",
    )
    @action(detail=False, methods=["post"], url_path="import")
    def import_file(self, request, *args, **kwargs):
        form = ImportUploadSerializer(data=request.data, context=self.get_serializer_context())
        form.is_valid(raise_exception=True)
        batch = start_import(self.org, request.user, form.validated_data)
        return Response(ImportSerializer(batch).data, status=status.HTTP_202_ACCEPTED)


@extend_schema_view(
    list=extend_schema(responses={200: ImportSerializer(many=True), **LIST_ERRORS}),
    retrieve=extend_schema(responses={200: ImportSerializer, **READ_ERRORS}),
)
class ImportViewSet(OrgScopedViewSet, mixins.ListModelMixin, mixins.RetrieveModelMixin):
    queryset = ExpenseImport.objects.all()
    serializer_class = ImportSerializer
