"""Page forms for idle-resource cleanup: start a scan, pick resources to delete."""

from django import forms

from costsite.fields import RowsField
from spot import idle
from spot.models import IdleResource


class IdleScanForm(forms.Form):
    region = forms.ChoiceField(help_text="Scanned with the task worker's AWS credentials.")
    snapshot_min_age_days = forms.IntegerField(
        label="Snapshots older than (days)", min_value=1, max_value=idle.MAX_DAYS, initial=30
    )
    stopped_min_days = forms.IntegerField(
        label="Instances stopped for more than (days)",
        min_value=1,
        max_value=idle.MAX_DAYS,
        initial=7,
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["region"].choices = [
            (code, f"{code} · {name}") for code, name in idle.aws_regions()
        ]


class IdleDeleteForm(forms.Form):
    """The resources to delete; without `confirm` the page asks for confirmation first."""

    resources = RowsField(
        queryset=IdleResource.objects.none(),
        error_messages={
            "required": "Select at least one resource to delete.",
            "invalid_choice": "A selected resource is gone or already deleted; reload the page.",
            "invalid_pk_value": "“%(pk)s” is not a resource id.",
        },
    )
    confirm = forms.BooleanField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, organization, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["resources"].queryset = (
            IdleResource.objects.for_org(organization)
            .filter(deleted_at__isnull=True)
            .select_related("scan")
        )
