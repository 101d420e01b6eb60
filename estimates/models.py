"""The GPU price catalogue, organizations' own prices, and saved estimates.

Catalogue rows (regions, accelerators, instance types, public prices, storage and egress rates)
are shared by every organization. A `Price` row with an organization is that organization's
negotiated price and overrides the public one for it alone; `ProviderDiscount` is an
across-the-board discount. Every figure carries `source` and `as_of`.
"""

from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q

from costsite.orgs.models import Organization, Team, TenantQuerySet


class Provider(models.TextChoices):
    AWS = "aws", "AWS"
    GCP = "gcp", "Google Cloud"
    AZURE = "azure", "Azure"


class PurchaseOption(models.TextChoices):
    ON_DEMAND = "on_demand", "On-demand"
    SPOT = "spot", "Spot / preemptible"
    COMMIT_1Y = "commit_1y", "1-year commitment"
    COMMIT_3Y = "commit_3y", "3-year commitment"


class Region(models.Model):
    provider = models.CharField(max_length=8, choices=Provider.choices)
    code = models.CharField(max_length=40)
    name = models.CharField(max_length=100)
    location = models.CharField(max_length=100, blank=True)
    country_code = models.CharField(max_length=2, blank=True, help_text="ISO 3166-1 alpha-2")

    class Meta:
        ordering = ["provider", "code"]
        constraints = [
            models.UniqueConstraint(fields=["provider", "code"], name="uniq_region"),
        ]

    def __str__(self):
        return f"{self.provider}:{self.code}"


class Accelerator(models.Model):
    name = models.CharField(max_length=40, unique=True)
    family = models.CharField(max_length=40, db_index=True)
    memory_gb = models.DecimalField(max_digits=7, decimal_places=1)
    peak_tflops = models.FloatField(
        null=True, blank=True, help_text="Peak dense BF16/FP16 tensor TFLOP/s per accelerator."
    )
    tdp_w = models.PositiveIntegerField(null=True, blank=True)
    source = models.TextField()
    as_of = models.DateField()

    class Meta:
        ordering = ["family", "memory_gb"]

    def __str__(self):
        return self.name


class InstanceType(models.Model):
    provider = models.CharField(max_length=8, choices=Provider.choices)
    name = models.CharField(max_length=60)
    # Blank for TPU slices, whose host shape the provider does not list.
    vcpus = models.PositiveIntegerField(null=True, blank=True)
    memory_gib = models.DecimalField(max_digits=8, decimal_places=1, null=True, blank=True)
    accelerator = models.ForeignKey(Accelerator, on_delete=models.PROTECT, related_name="+")
    accelerator_count = models.PositiveSmallIntegerField()
    source = models.TextField()
    as_of = models.DateField()

    class Meta:
        ordering = ["provider", "name"]
        constraints = [
            models.UniqueConstraint(fields=["provider", "name"], name="uniq_instance_type"),
        ]

    def __str__(self):
        return f"{self.provider}:{self.name}"


class PriceQuerySet(models.QuerySet):
    def public(self):
        return self.filter(organization__isnull=True)

    def for_org(self, org):
        """An organization's own price rows (the public catalogue is `public()`)."""
        return self.filter(organization=org)


class Price(models.Model):
    """Price of one instance-hour. `organization` null: the public catalogue."""

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    instance_type = models.ForeignKey(InstanceType, on_delete=models.CASCADE, related_name="prices")
    region = models.ForeignKey(Region, on_delete=models.CASCADE, related_name="prices")
    purchase_option = models.CharField(max_length=12, choices=PurchaseOption.choices)
    price_per_hour = models.DecimalField(max_digits=14, decimal_places=6)
    currency = models.CharField(max_length=3, default="USD")
    source = models.TextField()
    as_of = models.DateField()
    updated_at = models.DateTimeField(auto_now=True)

    objects = PriceQuerySet.as_manager()

    class Meta:
        ordering = ["instance_type", "region", "purchase_option"]
        constraints = [
            models.UniqueConstraint(
                fields=["instance_type", "region", "purchase_option"],
                condition=Q(organization__isnull=True),
                name="uniq_public_price",
            ),
            models.UniqueConstraint(
                fields=["organization", "instance_type", "region", "purchase_option"],
                condition=Q(organization__isnull=False),
                name="uniq_org_price",
            ),
            models.CheckConstraint(condition=Q(price_per_hour__gt=0), name="price_positive"),
        ]

    def __str__(self):
        return (
            f"{self.instance_type} {self.region.code} {self.purchase_option} {self.price_per_hour}"
        )


class StorageRate(models.Model):
    region = models.ForeignKey(Region, on_delete=models.CASCADE, related_name="storage_rates")
    storage_class = models.CharField(max_length=40)
    price_per_gb_month = models.DecimalField(max_digits=12, decimal_places=6)
    currency = models.CharField(max_length=3, default="USD")
    source = models.TextField()
    as_of = models.DateField()

    class Meta:
        ordering = ["region", "storage_class"]
        constraints = [
            models.UniqueConstraint(fields=["region", "storage_class"], name="uniq_storage_rate"),
        ]

    def __str__(self):
        return f"{self.region} {self.storage_class} {self.price_per_gb_month}/GB-month"


class EgressKind(models.TextChoices):
    INTERNET = "internet", "To the internet"
    INTER_REGION = "inter_region", "Between regions"


class EgressRate(models.Model):
    region = models.ForeignKey(Region, on_delete=models.CASCADE, related_name="egress_rates")
    kind = models.CharField(max_length=16, choices=EgressKind.choices)
    price_per_gb = models.DecimalField(max_digits=12, decimal_places=6)
    currency = models.CharField(max_length=3, default="USD")
    source = models.TextField()
    as_of = models.DateField()

    class Meta:
        ordering = ["region", "kind"]
        constraints = [
            models.UniqueConstraint(fields=["region", "kind"], name="uniq_egress_rate"),
        ]

    def __str__(self):
        return f"{self.region} {self.kind} {self.price_per_gb}/GB"


class ProviderDiscount(models.Model):
    """An organization's across-the-board discount with one provider (e.g. an enterprise
    agreement), applied to every public price of that provider that it has no own price for."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    provider = models.CharField(max_length=8, choices=Provider.choices)
    percent = models.DecimalField(
        max_digits=5,
        decimal_places=2,
        validators=[MinValueValidator(Decimal("0.01")), MaxValueValidator(Decimal("99.99"))],
    )
    note = models.CharField(max_length=200, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = TenantQuerySet.as_manager()

    class Meta:
        ordering = ["provider"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "provider"], name="uniq_org_discount"),
        ]

    def __str__(self):
        return f"{self.organization}: {self.percent}% off {self.provider}"


class EstimateKind(models.TextChoices):
    ESTIMATE = "estimate", "Cost estimate"
    COMPARE = "compare", "Comparison"
    COMMITMENT = "commitment", "Commitment analysis"
    CI_PLAN = "ci_plan", "CI test plan"


class SavedEstimate(models.Model):
    """Inputs and a snapshot of the result, so a saved estimate does not change when prices do."""

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="saved_estimates"
    )
    team = models.ForeignKey(
        Team, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    name = models.CharField(max_length=120)
    kind = models.CharField(max_length=12, choices=EstimateKind.choices)
    inputs = models.JSONField()
    result = models.JSONField()
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = TenantQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]

    def __str__(self):
        return self.name


class Precision(models.TextChoices):
    BF16 = "bf16", "BF16"
    FP16 = "fp16", "FP16"
    FP8 = "fp8", "FP8"
    TF32 = "tf32", "TF32"


class RunSource(models.TextChoices):
    API = "api", "API"
    PORTAL = "portal", "Portal"
    SPOT = "spot", "Spot fleet"


class TrainingRun(models.Model):
    """A completed training run: what it computed and how long it took. The organization's
    model FLOPs utilisation is learned from these (estimates/training.py)."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    team = models.ForeignKey(
        Team, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    name = models.CharField(max_length=200)
    params = models.FloatField(null=True, blank=True, help_text="Model parameters.")
    tokens = models.FloatField(null=True, blank=True, help_text="Training tokens.")
    flops = models.FloatField(help_text="Training compute (6 × params × tokens unless given).")
    accelerator = models.ForeignKey(Accelerator, on_delete=models.PROTECT, related_name="+")
    gpu_count = models.PositiveIntegerField()
    precision = models.CharField(max_length=4, choices=Precision.choices, default=Precision.BF16)
    gpu_hours = models.FloatField()
    wall_hours = models.FloatField()
    cost = models.DecimalField(max_digits=14, decimal_places=4, null=True, blank=True)
    currency = models.CharField(max_length=3, default="USD")
    notes = models.TextField(blank=True)
    source = models.CharField(max_length=8, choices=RunSource.choices, default=RunSource.API)
    external_id = models.CharField(max_length=200, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = TenantQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "external_id"],
                condition=~Q(external_id=""),
                name="uniq_training_run_external_id",
            ),
        ]

    def __str__(self):
        return self.name


class UtilizationSource(models.TextChoices):
    API = "api", "API"
    CSV = "csv", "CSV upload"
    SPOT = "spot", "Spot fleet progress"


class UtilizationSample(models.Model):
    """One utilisation reading of one GPU of a job or instance (nvidia-smi / DCGM style)."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    team = models.ForeignKey(
        Team, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    job = models.CharField(max_length=200, help_text="The job or instance the samples are of.")
    provider = models.CharField(max_length=8, blank=True)
    region = models.CharField(max_length=40, blank=True)
    instance_type = models.CharField(max_length=60, blank=True)
    gpu_index = models.PositiveSmallIntegerField(default=0)
    at = models.DateTimeField()
    gpu_utilization = models.FloatField(help_text="Percent.")
    gpu_memory_used_gb = models.FloatField(null=True, blank=True)
    gpu_memory_total_gb = models.FloatField(null=True, blank=True)
    cpu_utilization = models.FloatField(null=True, blank=True, help_text="Percent.")
    memory_used_gb = models.FloatField(null=True, blank=True)
    oom = models.BooleanField(default=False, help_text="The job was killed out of memory here.")
    source = models.CharField(
        max_length=4, choices=UtilizationSource.choices, default=UtilizationSource.API
    )

    objects = TenantQuerySet.as_manager()

    class Meta:
        ordering = ["job", "at", "gpu_index"]
        indexes = [
            models.Index(fields=["organization", "job", "at"], name="util_org_job_at_idx"),
            models.Index(fields=["organization", "at"], name="util_org_at_idx"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "job", "gpu_index", "at"], name="uniq_util_sample"
            ),
        ]

    def __str__(self):
        return f"{self.job} GPU{self.gpu_index} {self.at:%Y-%m-%d %H:%M} {self.gpu_utilization}%"
