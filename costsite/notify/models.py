"""Alert channels of an organization and the log of every delivery to them."""

from urllib.parse import urlsplit

from django.db import models
from django.utils import timezone

from costsite.orgs.models import Organization, TenantQuerySet


class ChannelKind(models.TextChoices):
    EMAIL = "email", "Email"
    WEBHOOK = "webhook", "Webhook (signed JSON POST)"
    SLACK = "slack", "Slack-compatible incoming webhook"


class Channel(models.Model):
    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="channels"
    )
    name = models.CharField(max_length=100)
    kind = models.CharField(max_length=16, choices=ChannelKind.choices)
    target = models.CharField(
        max_length=2000,
        help_text="Email addresses (comma-separated) or the webhook URL.",
    )
    # The HMAC key of webhook signatures. It must be readable to sign, so it is stored as is;
    # it is shown to people once, when the channel is created.
    secret = models.CharField(max_length=64, blank=True, editable=False)
    enabled = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_success_at = models.DateTimeField(null=True, blank=True, editable=False)
    last_error = models.TextField(blank=True, editable=False)
    last_error_at = models.DateTimeField(null=True, blank=True, editable=False)
    # Set when a delivery gave up after its last retry; cleared by the next success.
    failing_since = models.DateTimeField(null=True, blank=True, editable=False)

    objects = TenantQuerySet.as_manager()

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return f"{self.name} ({self.get_kind_display()})"

    @property
    def emails(self) -> list[str]:
        return [e.strip() for e in self.target.split(",") if e.strip()]

    @property
    def masked_target(self) -> str:
        """The target as shown to people who may not edit the channel: webhook URLs are
        credentials (anyone holding a Slack URL can post), so only scheme and host are shown."""
        if self.kind == ChannelKind.EMAIL:
            return self.target
        parts = urlsplit(self.target)
        return f"{parts.scheme}://{parts.hostname}/…"

    @property
    def status(self) -> str:
        if not self.enabled:
            return "disabled"
        return "failing" if self.failing_since else "ok"


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    SENDING = "sending", "Sending"
    RETRYING = "retrying", "Waiting to retry"
    DELIVERED = "delivered", "Delivered"
    FAILED = "failed", "Failed"


class Delivery(models.Model):
    """One event sent to one channel, with every attempt in `attempt_log`."""

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="+", db_index=True
    )
    channel = models.ForeignKey(Channel, on_delete=models.CASCADE, related_name="deliveries")
    event = models.CharField(max_length=64)
    payload = models.JSONField()
    status = models.CharField(
        max_length=16, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING
    )
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    claimed_at = models.DateTimeField(null=True, blank=True)
    http_status = models.PositiveSmallIntegerField(null=True, blank=True)
    error = models.TextField(blank=True)
    duration_ms = models.PositiveIntegerField(null=True, blank=True)
    attempt_log = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    objects = TenantQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [
            models.Index(fields=["status", "next_attempt_at"], name="delivery_due_idx"),
            models.Index(fields=["channel", "-created_at"], name="delivery_channel_log_idx"),
        ]

    def __str__(self):
        return f"{self.event} → {self.channel} ({self.status})"
