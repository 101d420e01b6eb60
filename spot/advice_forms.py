"""The advice page's form: the API's AdviceInput (spot/api/advice.py) in HTML. It only renders
and coerces types; AdviceInput validates, so the page and the API accept and refuse the same
input (required fields included: an empty one is its "This field is required.")."""

from django import forms

from estimates.models import Provider


class AdviceForm(forms.Form):
    provider = forms.ChoiceField(choices=Provider.choices, initial=Provider.AWS, required=False)
    region = forms.CharField(
        required=False, initial="us-east-1", widget=forms.TextInput(attrs={"list": "regions"})
    )
    instance_type = forms.CharField(
        required=False, widget=forms.TextInput(attrs={"list": "instance-types"})
    )
    count = forms.IntegerField(required=False, initial=1, label="Instances")
    hours = forms.FloatField(
        required=False,
        label="Hours of work",
        help_text="The job's length on on-demand capacity, without interruptions.",
    )
    interruption_rate_per_hour = forms.FloatField(
        required=False,
        label="Interruption rate (per instance-hour)",
        help_text="Optional; or the MTBF below. Empty: learned from your fleets, else the default.",
    )
    mtbf_hours = forms.FloatField(
        required=False, label="Or: mean time between interruptions (hours, per instance)"
    )
    checkpoint_minutes = forms.FloatField(
        required=False, initial=5, label="Checkpoint write time (minutes)"
    )
    checkpoint_interval_minutes = forms.FloatField(
        required=False,
        label="Checkpoint interval (minutes)",
        help_text="Empty: the optimum for the interruption rate.",
    )
    restart_minutes = forms.FloatField(required=False, initial=10, label="Restart time (minutes)")
    deadline_hours = forms.FloatField(
        required=False, label="Deadline (hours from now)", help_text="Optional."
    )
