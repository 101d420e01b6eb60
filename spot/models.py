"""Spot fleets (one training job on spot capacity), their instance attempts, interruption
events, checkpoints and progress; idle-resource scans."""

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q

from costsite.orgs.models import Organization, Team, TenantQuerySet


class FleetProvider(models.TextChoices):
    AWS = "aws", "AWS (EC2)"
    SIMULATED = "simulated", "Simulated (no cloud, AWS catalogue prices)"


# Every fleet, simulated ones too, is priced and footprinted from this provider's catalogue.
CATALOGUE_PROVIDER = "aws"


class Strategy(models.TextChoices):
    AGGRESSIVE = "aggressive", "Aggressive"
    BALANCED = "balanced", "Balanced"
    CONSERVATIVE = "conservative", "Conservative"


class FleetStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    PROVISIONING = "provisioning", "Provisioning"
    RUNNING = "running", "Running"
    INTERRUPTED = "interrupted", "Interrupted"
    RECOVERING = "recovering", "Recovering"
    COMPLETED = "completed", "Completed"
    FAILED = "failed", "Failed"
    CANCELLED = "cancelled", "Cancelled"


FINAL_STATUSES = (FleetStatus.COMPLETED, FleetStatus.FAILED, FleetStatus.CANCELLED)


class Market(models.TextChoices):
    SPOT = "spot", "Spot"
    ON_DEMAND = "on_demand", "On-demand"


class Fleet(models.Model):
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    team = models.ForeignKey(
        Team, on_delete=models.SET_NULL, null=True, blank=True, related_name="fleets"
    )
    name = models.CharField(max_length=120)
    provider = models.CharField(max_length=10, choices=FleetProvider.choices)
    region = models.CharField(max_length=40)
    availability_zones = models.JSONField(default=list, blank=True)
    instance_types = models.JSONField(help_text="Ordered preference.")
    accelerator = models.CharField(
        max_length=40, blank=True, help_text="The requirement the instance types came from."
    )
    target_count = models.PositiveIntegerField(validators=[MinValueValidator(1)])
    strategy = models.CharField(max_length=12, choices=Strategy.choices, default=Strategy.BALANCED)
    max_price = models.DecimalField(max_digits=12, decimal_places=6, null=True, blank=True)
    # Fallback policy: on-demand after N interruptions; when spot has been unavailable for T
    # minutes; when the deadline is at risk.
    fallback_on_demand_after = models.PositiveIntegerField(null=True, blank=True)
    fallback_unavailable_minutes = models.PositiveIntegerField(null=True, blank=True)
    fallback_on_deadline = models.BooleanField(default=True)
    deadline = models.DateTimeField(null=True, blank=True)
    checkpoint_interval_minutes = models.FloatField(null=True, blank=True)
    checkpoint_write_minutes = models.FloatField(default=5.0)
    restart_minutes = models.FloatField(default=10.0)
    # Launch settings.
    image_id = models.CharField(max_length=100, blank=True)
    instance_profile = models.CharField(max_length=300, blank=True)
    subnet_ids = models.JSONField(default=list, blank=True)
    security_group_ids = models.JSONField(default=list, blank=True)
    startup_script = models.TextField(blank=True)
    total_steps = models.PositiveBigIntegerField(validators=[MinValueValidator(1)])
    # The workload, when known: a completed fleet becomes a training run that teaches the
    # organization's efficiency (estimates/training.py).
    model_params = models.FloatField(null=True, blank=True)
    training_tokens = models.FloatField(null=True, blank=True)
    training_flops = models.FloatField(null=True, blank=True)
    precision = models.CharField(max_length=4, blank=True)
    budget = models.ForeignKey(
        "budgets.Budget", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # Simulated provider only.
    simulated_interruptions_per_hour = models.FloatField(default=0.0)
    simulated_seed = models.PositiveIntegerField(default=0)
    simulated_steps_per_hour = models.FloatField(default=0.0)

    status = models.CharField(
        max_length=12, choices=FleetStatus.choices, default=FleetStatus.PENDING, db_index=True
    )
    status_reason = models.CharField(max_length=500, blank=True)
    on_demand_fallback = models.BooleanField(
        default=False, help_text="Replacements are launched on-demand from now on."
    )
    spot_unavailable_since = models.DateTimeField(null=True, blank=True)
    progress_step = models.PositiveBigIntegerField(default=0)
    progress_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = TenantQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["organization", "status"], name="fleet_org_status_idx")]

    def __str__(self):
        return self.name

    @property
    def is_simulated(self) -> bool:
        return self.provider == FleetProvider.SIMULATED

    @property
    def is_final(self) -> bool:
        return self.status in FINAL_STATUSES


class AttemptState(models.TextChoices):
    RUNNING = "running", "Running"
    INTERRUPTED = "interrupted", "Interrupted"
    TERMINATED = "terminated", "Terminated"


class EndReason(models.TextChoices):
    INTERRUPTED = "interrupted", "Spot interruption"
    COMPLETED = "completed", "Job completed"
    CANCELLED = "cancelled", "Fleet cancelled"
    FAILED = "failed", "Fleet failed"
    LOST = "lost", "Instance disappeared"


class Attempt(models.Model):
    """One instance launched for one slot of a fleet (a fleet of N runs N slots)."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    fleet = models.ForeignKey(Fleet, on_delete=models.CASCADE, related_name="attempts")
    slot = models.PositiveIntegerField()
    provider_instance_id = models.CharField(max_length=100)
    market = models.CharField(max_length=10, choices=Market.choices)
    instance_type = models.CharField(max_length=60)
    availability_zone = models.CharField(max_length=40, blank=True)
    price_per_hour = models.DecimalField(max_digits=12, decimal_places=6)
    price_source = models.CharField(max_length=300, blank=True)
    on_demand_price_per_hour = models.DecimalField(max_digits=12, decimal_places=6)
    state = models.CharField(
        max_length=12, choices=AttemptState.choices, default=AttemptState.RUNNING
    )
    launched_at = models.DateTimeField()
    ended_at = models.DateTimeField(null=True, blank=True)
    end_reason = models.CharField(max_length=12, choices=EndReason.choices, blank=True)
    checkpoint_requested_at = models.DateTimeField(
        null=True, blank=True, help_text="The job was told to checkpoint now (a notice arrived)."
    )
    lost_steps = models.PositiveBigIntegerField(default=0)
    lost_hours = models.FloatField(default=0.0)
    charged = models.BooleanField(default=False)

    objects = TenantQuerySet.as_manager()

    class Meta:
        ordering = ["launched_at", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["fleet", "provider_instance_id"], name="uniq_attempt_instance"
            ),
            # One live attempt per slot: a duplicated replacement cannot be stored.
            models.UniqueConstraint(
                fields=["fleet", "slot"],
                condition=Q(state="running"),
                name="uniq_running_attempt_per_slot",
            ),
        ]

    def __str__(self):
        return f"{self.provider_instance_id} ({self.market} {self.instance_type})"


class EventSource(models.TextChoices):
    EVENTBRIDGE = "eventbridge", "EventBridge"
    AGENT = "agent", "Job agent"
    POLL = "poll", "State poll"
    USER = "user", "Simulated by a user"


class EventKind(models.TextChoices):
    INTERRUPTION_WARNING = "interruption_warning", "Spot interruption warning"
    REBALANCE = "rebalance", "Rebalance recommendation"
    STATE_CHANGE = "state_change", "Instance state change"


class InterruptionEvent(models.Model):
    """An event about an instance, recorded once per (organization, event key)."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    fleet = models.ForeignKey(
        Fleet, on_delete=models.CASCADE, null=True, blank=True, related_name="events"
    )
    attempt = models.ForeignKey(
        Attempt, on_delete=models.CASCADE, null=True, blank=True, related_name="events"
    )
    event_key = models.CharField(max_length=200)
    source = models.CharField(max_length=12, choices=EventSource.choices)
    kind = models.CharField(max_length=24, choices=EventKind.choices)
    provider_instance_id = models.CharField(max_length=100, blank=True)
    detail = models.JSONField(default=dict, blank=True)
    occurred_at = models.DateTimeField()
    received_at = models.DateTimeField(auto_now_add=True)
    handled_at = models.DateTimeField(null=True, blank=True)
    outcome = models.CharField(max_length=300, blank=True)

    objects = TenantQuerySet.as_manager()

    class Meta:
        ordering = ["-received_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "event_key"], name="uniq_interruption_event"
            ),
        ]

    def __str__(self):
        return f"{self.kind} {self.provider_instance_id}"


class Checkpoint(models.Model):
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    fleet = models.ForeignKey(Fleet, on_delete=models.CASCADE, related_name="checkpoints")
    step = models.PositiveBigIntegerField()
    uri = models.CharField(max_length=1000)
    created_at = models.DateTimeField()

    objects = TenantQuerySet.as_manager()

    class Meta:
        ordering = ["-step", "-pk"]
        constraints = [
            models.UniqueConstraint(fields=["fleet", "step"], name="uniq_checkpoint_step"),
        ]

    def __str__(self):
        return f"step {self.step}: {self.uri}"


class ProgressReport(models.Model):
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    fleet = models.ForeignKey(Fleet, on_delete=models.CASCADE, related_name="progress_reports")
    step = models.PositiveBigIntegerField()
    at = models.DateTimeField()
    provider_instance_id = models.CharField(max_length=100, blank=True)

    objects = TenantQuerySet.as_manager()

    class Meta:
        ordering = ["at", "pk"]
        indexes = [models.Index(fields=["fleet", "at"], name="progress_fleet_at_idx")]

    def __str__(self):
        return f"step {self.step} at {self.at:%Y-%m-%d %H:%M}"


class ScanStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    DONE = "done", "Done"
    FAILED = "failed", "Failed"


class IdleScan(models.Model):
    """One scan of an AWS account and region for resources that cost money doing nothing."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    region = models.CharField(max_length=40)
    snapshot_min_age_days = models.PositiveIntegerField(default=30)
    stopped_min_days = models.PositiveIntegerField(default=7)
    account_id = models.CharField(max_length=20, blank=True)
    status = models.CharField(max_length=8, choices=ScanStatus.choices, default=ScanStatus.QUEUED)
    error = models.CharField(max_length=500, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    objects = TenantQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self):
        return f"{self.region} scan {self.created_at:%Y-%m-%d %H:%M}"


class IdleKind(models.TextChoices):
    VOLUME = "volume", "Unattached EBS volume"
    SNAPSHOT = "snapshot", "Old snapshot"
    ADDRESS = "address", "Unassociated Elastic IP"
    INSTANCE = "instance", "Long-stopped instance"


class IdleResource(models.Model):
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    scan = models.ForeignKey(IdleScan, on_delete=models.CASCADE, related_name="resources")
    kind = models.CharField(max_length=10, choices=IdleKind.choices)
    resource_id = models.CharField(max_length=100)
    region = models.CharField(max_length=40)
    description = models.CharField(max_length=500, blank=True)
    size_gb = models.FloatField(null=True, blank=True)
    idle_since = models.DateTimeField(null=True, blank=True)
    monthly_cost = models.DecimalField(max_digits=14, decimal_places=4)
    currency = models.CharField(max_length=3, default="USD")
    price_basis = models.CharField(max_length=500, help_text="The rate used, its source and date.")
    deleted_at = models.DateTimeField(null=True, blank=True)
    deleted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    delete_error = models.CharField(max_length=500, blank=True)

    objects = TenantQuerySet.as_manager()

    class Meta:
        ordering = ["-monthly_cost", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["scan", "resource_id"], name="uniq_idle_resource"),
        ]

    def __str__(self):
        return f"{self.kind} {self.resource_id}"
