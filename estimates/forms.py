"""Page forms. They only render and coerce types; the API's input serializers
(`estimates/inputs.py`) validate, so pages and API accept and refuse exactly the same input."""

from django import forms
from django.forms import formset_factory

from estimates import interruptions
from estimates.ci_plans import PRESETS
from estimates.models import EgressKind, Provider, PurchaseOption

BUCKETS = [("", "default (>20%)")] + [(b, b) for b in interruptions.AWS_BUCKETS]


class EstimateForm(forms.Form):
    provider = forms.ChoiceField(choices=Provider.choices)
    region = forms.CharField(max_length=40, widget=forms.TextInput(attrs={"list": "regions"}))
    instance_type = forms.CharField(
        max_length=60,
        required=False,
        widget=forms.TextInput(attrs={"list": "instance-types"}),
        help_text="Or leave empty and give an accelerator and GPU count.",
    )
    accelerator = forms.CharField(
        max_length=40, required=False, widget=forms.TextInput(attrs={"list": "accelerators"})
    )
    gpu_count = forms.IntegerField(min_value=1, required=False, label="GPU count")
    hours = forms.FloatField(min_value=0.001)
    nodes = forms.IntegerField(min_value=1, initial=1)
    purchase_option = forms.ChoiceField(choices=PurchaseOption.choices)
    storage_gb = forms.FloatField(min_value=0, initial=0, label="Storage (GB)")
    storage_class = forms.CharField(max_length=40, initial="object-standard")
    egress_gb = forms.FloatField(min_value=0, initial=0, label="Egress (GB)")
    egress_kind = forms.ChoiceField(choices=EgressKind.choices)
    interruption_bucket = forms.ChoiceField(
        choices=BUCKETS, required=False, label="Spot interruption frequency (AWS bucket)"
    )
    checkpoint_write_minutes = forms.FloatField(min_value=0, required=False)


class CompareForm(forms.Form):
    accelerator = forms.CharField(
        max_length=40,
        required=False,
        widget=forms.TextInput(attrs={"list": "accelerators"}),
        help_text='A name or a family: "A100" matches 40 and 80 GB.',
    )
    min_gpu_memory_gb = forms.FloatField(
        min_value=1, required=False, label="Or: minimum GPU memory (GB)"
    )
    gpu_count = forms.IntegerField(min_value=1, initial=8, label="GPU count")
    hours = forms.FloatField(min_value=0.001, initial=100)
    providers = forms.MultipleChoiceField(
        choices=Provider.choices, required=False, widget=forms.CheckboxSelectMultiple
    )
    purchase_options = forms.MultipleChoiceField(
        choices=PurchaseOption.choices, required=False, widget=forms.CheckboxSelectMultiple
    )
    max_results = forms.IntegerField(min_value=1, max_value=500, initial=20)


class CommitmentForm(forms.Form):
    provider = forms.ChoiceField(choices=Provider.choices)
    region = forms.CharField(max_length=40, widget=forms.TextInput(attrs={"list": "regions"}))
    instance_type = forms.CharField(
        max_length=60, widget=forms.TextInput(attrs={"list": "instance-types"})
    )
    instance_hours_per_week = forms.FloatField(
        min_value=0.1, help_text="168 = one instance busy all week."
    )


class TestJobForm(forms.Form):
    name = forms.CharField(max_length=80)
    test_type = forms.ChoiceField(choices=[(t, t) for t in PRESETS])
    runs_per_week = forms.FloatField(min_value=0.1)
    minutes_per_run = forms.FloatField(min_value=0.1)
    shards = forms.IntegerField(min_value=1, initial=1)
    gpu_count = forms.IntegerField(min_value=1, required=False, label="GPU count")
    min_gpu_memory_gb = forms.FloatField(min_value=1, required=False)
    accelerator = forms.CharField(max_length=40, required=False)
    current_instance_type = forms.CharField(max_length=60, required=False)


TestJobFormSet = formset_factory(
    TestJobForm, extra=0, min_num=1, max_num=50, validate_min=True, validate_max=True
)


class CiPlanForm(forms.Form):
    provider = forms.ChoiceField(
        choices=[("", "any"), *list(Provider.choices)],
        required=False,
        help_text="Where to look, and where current instances are priced.",
    )
    region = forms.CharField(
        max_length=40, required=False, widget=forms.TextInput(attrs={"list": "regions"})
    )


class SaveForm(forms.Form):
    save_as = forms.CharField(max_length=120, required=False, label="Save as")


class PriceListUploadForm(forms.Form):
    file = forms.FileField(help_text="CSV or JSON; see the format below.")
    replace = forms.BooleanField(
        required=False, help_text="Delete your previous prices and discounts first."
    )


def clean_for_api(form: forms.Form) -> dict:
    """The form's cleaned data without empty optional values, as the API would receive it."""
    return {k: v for k, v in form.cleaned_data.items() if v not in (None, "", [])}
