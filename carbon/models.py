"""The carbon catalogue: grid intensity, PUE, accelerator and host power, equivalents.

Every figure carries its source (and year or date). Region figures hang off the price
catalogue's regions, so every priced region can be checked for an intensity or a fallback.
"""

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

from costsite.notify.models import Channel
from costsite.orgs.models import Organization, Team, TenantQuerySet
from costsite.periods import Period, check_supported_day
from estimates.models import Accelerator, Provider, Region


class GridIntensity(models.Model):
    region = models.OneToOneField(Region, on_delete=models.CASCADE, related_name="grid_intensity")
    intensity_g_per_kwh = models.FloatField()
    year = models.PositiveSmallIntegerField()
    cfe_percent = models.FloatField(
        null=True, blank=True, help_text="Google's carbon-free energy share (GCP only)."
    )
    source = models.TextField()

    class Meta:
        ordering = ["region"]

    def __str__(self):
        return f"{self.region}: {self.intensity_g_per_kwh} g/kWh ({self.year})"


class CountryIntensity(models.Model):
    country_code = models.CharField(max_length=2, unique=True)
    intensity_g_per_kwh = models.FloatField()
    year = models.PositiveSmallIntegerField()
    source = models.TextField()

    class Meta:
        ordering = ["country_code"]
        verbose_name_plural = "country intensities"

    def __str__(self):
        return f"{self.country_code}: {self.intensity_g_per_kwh} g/kWh ({self.year})"


class Pue(models.Model):
    """Power usage effectiveness per provider (region blank) or per region where published."""

    provider = models.CharField(max_length=8, choices=Provider.choices)
    region = models.ForeignKey(
        Region, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    pue = models.FloatField()
    year = models.PositiveSmallIntegerField()
    source = models.TextField()

    class Meta:
        ordering = ["provider", "region"]
        constraints = [
            models.UniqueConstraint(fields=["provider", "region"], name="uniq_pue"),
            models.UniqueConstraint(
                fields=["provider"],
                condition=models.Q(region__isnull=True),
                name="uniq_provider_pue",
            ),
        ]

    def __str__(self):
        return f"{self.provider} {self.region or ''} PUE {self.pue}"


class AcceleratorPower(models.Model):
    accelerator = models.OneToOneField(Accelerator, on_delete=models.CASCADE, related_name="power")
    tdp_w = models.FloatField(null=True, blank=True)
    idle_w = models.FloatField(null=True, blank=True)
    max_w = models.FloatField(null=True, blank=True)
    source = models.TextField()

    class Meta:
        ordering = ["accelerator"]

    def __str__(self):
        return f"{self.accelerator}: TDP {self.tdp_w} W"


class CarbonFactor(models.Model):
    """Named constants: world-average intensity, host power model, equivalents, offset price."""

    name = models.CharField(max_length=60, unique=True)
    value = models.FloatField()
    unit = models.CharField(max_length=60)
    source = models.TextField()
    as_of = models.CharField(max_length=20, blank=True)

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return f"{self.name} = {self.value} {self.unit}"


class RecordSource(models.TextChoices):
    API = "api", "Reported by the job"
    RUN = "run", "Training run"
    SPOT = "spot", "Spot fleet"


class CarbonRecord(models.Model):
    """The energy and emissions of one job. A job that reports periodically sends the same
    `external_id`; each report replaces the figures with its cumulative totals."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    team = models.ForeignKey(
        Team, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    name = models.CharField(max_length=200)
    external_id = models.CharField(max_length=200, blank=True)
    provider = models.CharField(max_length=12, blank=True)
    region = models.CharField(max_length=40, blank=True)
    instance_type = models.CharField(max_length=60, blank=True)
    accelerator = models.CharField(max_length=40, blank=True)
    gpu_count = models.PositiveIntegerField(null=True, blank=True)
    started_at = models.DateTimeField()
    ended_at = models.DateTimeField(null=True, blank=True)
    energy_kwh = models.FloatField()
    co2e_kg = models.FloatField()
    intensity_g_per_kwh = models.FloatField()
    pue = models.FloatField()
    source = models.CharField(max_length=8, choices=RecordSource.choices, default=RecordSource.API)
    assumptions = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = TenantQuerySet.as_manager()

    class Meta:
        ordering = ["-started_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "external_id"],
                condition=~models.Q(external_id=""),
                name="uniq_carbon_record_external_id",
            ),
        ]
        indexes = [
            models.Index(fields=["organization", "started_at"], name="carbon_record_org_time_idx")
        ]

    def __str__(self):
        return f"{self.name}: {self.co2e_kg:.3f} kg CO2e"


MIN_LIMIT_KG = 0.001
MAX_LIMIT_KG = 1e12
MIN_THRESHOLD = 1
MAX_THRESHOLD = 1000
MAX_THRESHOLDS = 10


def check_thresholds(value) -> None:
    """Alert thresholds of a carbon budget: up to 10 different whole percentages from 1 to 1000.
    A model-field validator (so the admin applies it); the API and the dashboard form apply it
    too."""
    if not isinstance(value, list) or any(type(v) is not int for v in value):
        raise ValidationError("A list of whole percentages, e.g. [80, 100].")
    if len(value) > MAX_THRESHOLDS:
        raise ValidationError(f"At most {MAX_THRESHOLDS} thresholds.")
    if any(not MIN_THRESHOLD <= v <= MAX_THRESHOLD for v in value):
        raise ValidationError(f"Each threshold between {MIN_THRESHOLD} and {MAX_THRESHOLD}.")
    if len(set(value)) < len(value):
        raise ValidationError("Each threshold once.")


def check_period(period: str, start, end) -> None:
    """The dates of a carbon budget's period: a custom one needs both, start no later than end
    (the others ignore them). The API's serializer, the portal form and the admin (through
    CarbonBudget.clean) all apply this one rule."""
    if period == Period.CUSTOM and (not start or not end or end < start):
        raise ValidationError({"end": ["A custom period needs start ≤ end."]})


class CarbonBudget(models.Model):
    """An emissions limit per period (kg CO2e), with alert thresholds in percent."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    team = models.ForeignKey(
        Team, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    name = models.CharField(max_length=120)
    limit_kg = models.FloatField(
        "limit (kg CO2e)",
        validators=[MinValueValidator(MIN_LIMIT_KG), MaxValueValidator(MAX_LIMIT_KG)],
    )
    period = models.CharField(max_length=10, choices=Period.choices, default=Period.MONTHLY)
    start = models.DateField(null=True, blank=True, validators=[check_supported_day])
    end = models.DateField(null=True, blank=True, validators=[check_supported_day])
    thresholds = models.JSONField(
        default=list,
        blank=True,
        validators=[check_thresholds],
        help_text="Percentages that alert, e.g. [80, 100].",
    )
    channels = models.ManyToManyField(Channel, blank=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    objects = TenantQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(limit_kg__gt=0), name="carbon_limit_positive"
            ),
        ]

    def __str__(self):
        return f"{self.name}: {self.limit_kg} kg CO2e per {self.period}"

    def clean(self):
        check_period(self.period, self.start, self.end)


class CarbonAlert(models.Model):
    """A threshold of a carbon budget crossed in a period; the database allows only one."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    budget = models.ForeignKey(CarbonBudget, on_delete=models.CASCADE, related_name="alerts")
    percent = models.PositiveSmallIntegerField()
    period_start = models.DateField()
    emitted_kg = models.FloatField()
    fired_at = models.DateTimeField(auto_now_add=True)

    objects = TenantQuerySet.as_manager()

    class Meta:
        ordering = ["-fired_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["budget", "percent", "period_start"], name="one_carbon_alert_per_period"
            ),
        ]

    def __str__(self):
        return f"{self.budget}: {self.percent}% ({self.period_start})"
