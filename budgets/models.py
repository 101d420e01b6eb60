"""Budgets, the spend recorded against them, alert rules and the alerts they fired."""

import uuid
from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models, transaction
from django.db.models import F, Func, Q, TextField
from django.db.models.lookups import Exact
from django.utils import timezone

from costsite.notify.models import Channel
from costsite.orgs.models import Organization, Team, TenantQuerySet
from costsite.periods import Period, check_supported_day


class Budget(models.Model):
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="budgets")
    team = models.ForeignKey(
        Team, on_delete=models.SET_NULL, null=True, blank=True, related_name="budgets"
    )
    parent = models.ForeignKey(
        "self",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="allocations",
        help_text="A budget this one is an allocation of; allocations may not exceed it.",
    )
    name = models.CharField(max_length=120)
    activity = models.CharField(
        max_length=80, blank=True, help_text="What an allocation is for, e.g. integration tests."
    )
    amount = models.DecimalField(
        max_digits=14, decimal_places=2, validators=[MinValueValidator(Decimal("0.01"))]
    )
    currency = models.CharField(max_length=3, default="USD")
    period = models.CharField(max_length=10, choices=Period.choices, default=Period.MONTHLY)
    start = models.DateField(
        null=True,
        blank=True,
        validators=[check_supported_day],
        help_text="Custom period: first day.",
    )
    end = models.DateField(
        null=True,
        blank=True,
        validators=[check_supported_day],
        help_text="Custom period: last day.",
    )
    # Scope: only expenses matching every filter that is set count against the budget.
    scope_provider = models.CharField(max_length=32, blank=True)
    scope_service_category = models.CharField(max_length=80, blank=True)
    scope_region = models.CharField(max_length=60, blank=True)
    scope_tag_key = models.CharField(max_length=100, blank=True)
    scope_tag_value = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = TenantQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="budget_amount_positive"),
            models.CheckConstraint(
                condition=~Q(period="custom") | (Q(start__isnull=False) & Q(end__isnull=False)),
                name="custom_budget_has_dates",
            ),
        ]

    def __str__(self):
        return self.name


class PurchaseType(models.TextChoices):
    ON_DEMAND = "on_demand", "On-demand"
    SPOT = "spot", "Spot"
    COMMITMENT = "commitment", "Commitment"


class ExpenseSource(models.TextChoices):
    MANUAL = "manual", "Entered by hand"
    API = "api", "API"
    IMPORT = "import", "Billing import"
    CLOUD = "cloud", "Cloud cost API"
    SPOT = "spot", "Spot fleet"


class TagText(Func):
    """The value of the expense tag `key` as text (NULL when the expense has no such tag).

    `key` is only ever a key, whatever it says: not a lookup (`contains`, `isnull`), a path
    (`a__b`) or an array index (`0`), as it would be in `tags__<key>` or `KT()`."""

    output_field = TextField()

    def __init__(self, key: str):
        super().__init__(F("tags"))
        self.key = key

    def as_sql(self, compiler, connection, **extra_context):  # PostgreSQL
        tags, params = compiler.compile(self.get_source_expressions()[0])
        return f"({tags} ->> %s)", (*params, self.key)

    def as_sqlite(self, compiler, connection, **extra_context):
        # Not a JSON path ('$."key"'): SQLite's has no way to quote a '"' in a key. json_each
        # gives numbers as numbers and true/false as 1/0; as text they read as PostgreSQL's
        # ->> gives them, so a tag 1 (from a FOCUS file) is "1" on both.
        tags, params = compiler.compile(self.get_source_expressions()[0])
        sql = (
            "(SELECT CASE type WHEN 'true' THEN 'true' WHEN 'false' THEN 'false' "  # noqa: S608
            f"ELSE CAST(value AS TEXT) END FROM json_each({tags}) WHERE key = %s)"
        )
        return sql, (*params, self.key)


class ExpenseQuerySet(TenantQuerySet):
    """Every way of writing expenses keeps the daily roll-ups (DailySpend) exact, in the same
    transaction: bulk inserts add what they inserted, deletes subtract what they deleted."""

    def tagged(self, key: str, value: str):
        """The expenses whose tag `key` is `value` (see TagText)."""
        return self.filter(Exact(TagText(key), value))

    def bulk_create(self, objs, *args, **kwargs):
        if kwargs.get("ignore_conflicts") or kwargs.get("update_conflicts"):
            raise ValueError(
                "Expenses are inserted whole: leave out stored external ids first "
                "(budgets.recording.insert_new)."
            )
        from budgets import rollups

        with transaction.atomic(using=self.db):
            created = super().bulk_create(objs, *args, **kwargs)
            rollups.add_rows([expense.pk for expense in created])
        return created

    def delete(self):
        from budgets import rollups

        with transaction.atomic(using=self.db):
            deleted = 0
            for pks in rollups.lock_in_chunks(self):
                rollups.subtract_rows(pks)
                deleted += super(ExpenseQuerySet, self.model.objects.filter(pk__in=pks)).delete()[0]
        return deleted, {self.model._meta.label: deleted}

    def update(self, **kwargs):
        if ROLLED_UP_FIELDS & set(kwargs):
            raise ValueError("Change expenses one by one (save()) so the roll-ups follow.")
        return super().update(**kwargs)


# The expense fields the daily roll-ups are keyed or summed on.
ROLLED_UP_FIELDS = frozenset(
    {
        "organization",
        "organization_id",
        "team",
        "team_id",
        "amount",
        "currency",
        "provider",
        "service_category",
        "region",
        "incurred_at",
    }
)


class Expense(models.Model):
    # Indexes (Meta): each one is paid for by every row an import inserts, so the foreign keys
    # only ever set on some rows get partial ones, and the organization none of its own (every
    # index below that needs it starts with it).
    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="+", db_index=False
    )
    team = models.ForeignKey(
        Team,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="expenses",
        db_index=False,
    )
    # FOCUS rows carry 10+ decimal places; keep 12.
    amount = models.DecimalField(max_digits=24, decimal_places=12)
    currency = models.CharField(max_length=3, default="USD")
    provider = models.CharField(max_length=32, blank=True)
    service = models.CharField(max_length=200, blank=True)
    service_category = models.CharField(max_length=80, blank=True)
    region = models.CharField(max_length=60, blank=True)
    resource_id = models.CharField(max_length=500, blank=True)
    tags = models.JSONField(default=dict, blank=True)
    # When the spend happened: the charge period; `incurred_at` is its start and what
    # budgets and reports aggregate on.
    incurred_at = models.DateTimeField()
    charge_period_end = models.DateTimeField(null=True, blank=True)
    purchase_type = models.CharField(
        max_length=12, choices=PurchaseType.choices, default=PurchaseType.ON_DEMAND
    )
    source = models.CharField(max_length=8, choices=ExpenseSource.choices)
    external_id = models.CharField(
        max_length=200,
        blank=True,
        help_text="Your id for this charge; sending it again changes nothing.",
    )
    description = models.CharField(max_length=500, blank=True)
    import_batch = models.ForeignKey(
        "ExpenseImport",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ExpenseQuerySet.as_manager()

    class Meta:
        ordering = ["-incurred_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "external_id"],
                condition=~Q(external_id=""),
                name="uniq_expense_external_id",
            ),
        ]
        indexes = [
            models.Index(fields=["organization", "incurred_at"], name="expense_org_time_idx"),
            models.Index(fields=["team"], condition=Q(team__isnull=False), name="expense_team_idx"),
            models.Index(
                fields=["import_batch"],
                condition=Q(import_batch__isnull=False),
                name="expense_import_batch_idx",
            ),
            models.Index(
                fields=["created_by"],
                condition=Q(created_by__isnull=False),
                name="expense_created_by_idx",
            ),
        ]

    def __str__(self):
        return f"{self.amount} {self.currency} {self.service or self.description}"

    def save(self, *args, **kwargs):
        from budgets import rollups

        fields = kwargs.get("update_fields")
        if fields is not None and not ROLLED_UP_FIELDS & set(fields):
            return super().save(*args, **kwargs)  # nothing the roll-ups sum or key on
        with transaction.atomic():
            if not self._state.adding:
                rollups.subtract_rows(rollups.lock(Expense.objects.filter(pk=self.pk)))
            super().save(*args, **kwargs)
            rollups.add_rows([self.pk])

    def delete(self, *args, **kwargs):
        return Expense.objects.filter(pk=self.pk).delete()


class DailySpend(models.Model):
    """Spend per organization-local day and budget scope (team, provider, service category,
    region, currency): what budget figures and the overview read instead of scanning expenses.

    Maintained by every expense write in its own transaction (ExpenseQuerySet, Expense.save and
    delete, the import's set-based insert); rebuilt when an organization changes its time zone.
    `team_key` is the team's id, 0 for none (0 rather than NULL so the row is unique)."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    day = models.DateField()
    team_key = models.BigIntegerField(default=0)
    provider = models.CharField(max_length=32, blank=True)
    service_category = models.CharField(max_length=80, blank=True)
    region = models.CharField(max_length=60, blank=True)
    currency = models.CharField(max_length=3)
    amount = models.DecimalField(max_digits=30, decimal_places=12)
    expenses = models.BigIntegerField()

    objects = TenantQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=[
                    "organization",
                    "day",
                    "team_key",
                    "provider",
                    "service_category",
                    "region",
                    "currency",
                ],
                name="uniq_daily_spend",
            ),
        ]

    def __str__(self):
        return f"{self.day} {self.amount} {self.currency}"


class AlertKind(models.TextChoices):
    ACTUAL = "actual", "Spend crossed"
    FORECAST = "forecast", "Forecast for the period end crosses"


class AlertRule(models.Model):
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    budget = models.ForeignKey(Budget, on_delete=models.CASCADE, related_name="alert_rules")
    percent = models.DecimalField(
        max_digits=6,
        decimal_places=2,
        validators=[MinValueValidator(Decimal("1")), MaxValueValidator(Decimal("1000"))],
    )
    kind = models.CharField(max_length=10, choices=AlertKind.choices, default=AlertKind.ACTUAL)
    channels = models.ManyToManyField(Channel, blank=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    objects = TenantQuerySet.as_manager()

    class Meta:
        ordering = ["budget", "kind", "percent"]
        constraints = [
            models.UniqueConstraint(fields=["budget", "kind", "percent"], name="uniq_alert_rule"),
        ]

    def __str__(self):
        return f"{self.budget}: {self.get_kind_display()} {self.percent}%"


class Alert(models.Model):
    """One firing of a rule's threshold (kind and percent, as they were) in one budget period;
    the database allows only one. A rule whose threshold is edited can fire the new one in the
    same period, but never the same threshold twice."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    rule = models.ForeignKey(AlertRule, on_delete=models.CASCADE, related_name="alerts")
    budget = models.ForeignKey(Budget, on_delete=models.CASCADE, related_name="alerts")
    period_start = models.DateField()
    period_end = models.DateField()
    kind = models.CharField(max_length=10, choices=AlertKind.choices)
    percent = models.DecimalField(max_digits=6, decimal_places=2)
    spent = models.DecimalField(max_digits=24, decimal_places=4)
    forecast = models.DecimalField(max_digits=24, decimal_places=4)
    amount = models.DecimalField(max_digits=14, decimal_places=2)
    currency = models.CharField(max_length=3)
    fired_at = models.DateTimeField(auto_now_add=True)
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # Reminders (budgets/reminders.py): an open alert is sent again each day until acknowledged;
    # snoozing holds them until `snoozed_until`.
    snoozed_until = models.DateTimeField(null=True, blank=True)
    reminded_at = models.DateTimeField(null=True, blank=True)

    objects = TenantQuerySet.as_manager()

    class Meta:
        ordering = ["-fired_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["rule", "period_start", "kind", "percent"],
                name="one_alert_per_threshold_per_period",
            ),
        ]

    def __str__(self):
        return f"{self.budget}: {self.kind} {self.percent}% ({self.period_start})"


class ImportStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    COMPLETED = "completed", "Completed"
    FAILED = "failed", "Failed"


def import_upload_path(instance, filename: str) -> str:
    """Where an upload waits for its worker: a random name, never the client's."""
    return f"imports/{timezone.now():%Y/%m}/{uuid.uuid4().hex}"


class ExpenseImport(models.Model):
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    filename = models.CharField(max_length=255)
    file = models.FileField(upload_to=import_upload_path)
    cost_column = models.CharField(max_length=20, default="BilledCost")
    team = models.ForeignKey(
        Team, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    status = models.CharField(
        max_length=10, choices=ImportStatus.choices, default=ImportStatus.QUEUED
    )
    rows_total = models.PositiveIntegerField(default=0)
    rows_processed = models.PositiveIntegerField(default=0)
    rows_imported = models.PositiveIntegerField(default=0)
    rows_skipped = models.PositiveIntegerField(default=0)
    rows_rejected = models.PositiveIntegerField(default=0)
    bytes_total = models.PositiveBigIntegerField(default=0)
    bytes_read = models.PositiveBigIntegerField(default=0)
    errors = models.JSONField(default=list, blank=True)
    # Runs started so far, takeovers of a stopped run included (budgets.importer.MAX_ATTEMPTS).
    attempts = models.PositiveSmallIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)  # a running import's last sign
    finished_at = models.DateTimeField(null=True, blank=True)

    objects = TenantQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]

    def __str__(self):
        return f"{self.filename} ({self.status})"

    @property
    def percent_done(self) -> int:
        """How far the import is: the share of the file read, 100 once it has finished."""
        if self.status in (ImportStatus.COMPLETED, ImportStatus.FAILED):
            return 100
        if not self.bytes_total:
            return 0
        return min(99, self.bytes_read * 100 // self.bytes_total)


class BudgetChange(models.Model):
    """Who changed which figure of a budget, when, from what to what."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    budget = models.ForeignKey(Budget, on_delete=models.CASCADE, related_name="changes")
    field = models.CharField(max_length=40)
    old_value = models.CharField(max_length=200, blank=True)
    new_value = models.CharField(max_length=200, blank=True)
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    via = models.CharField(max_length=10)  # portal, api, admin
    changed_at = models.DateTimeField(auto_now_add=True)

    objects = TenantQuerySet.as_manager()

    class Meta:
        ordering = ["-changed_at", "-pk"]

    def __str__(self):
        return f"{self.budget} {self.field}: {self.old_value} → {self.new_value}"


class CloudCostSource(models.Model):
    """An organization's link to a provider's cost API (AWS Cost Explorer), pulled daily with
    the credentials configured on the server."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    provider = models.CharField(max_length=8, default="aws", choices=[("aws", "AWS")])
    account_label = models.CharField(
        max_length=64, blank=True, help_text="The AWS account id, used in de-duplication keys."
    )
    enabled = models.BooleanField(default=True)
    last_pulled_at = models.DateTimeField(null=True, blank=True)
    last_result = models.CharField(max_length=500, blank=True)

    objects = TenantQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organization", "provider"], name="uniq_cost_source"),
        ]

    def __str__(self):
        return f"{self.organization}: {self.provider} costs"
