from django import template

from estimates.charts import CHARTS

register = template.Library()


@register.filter
def chart(result, kind):
    """Chart.js data for a computation result: {{ result|chart:"compare"|json_script:"id" }}."""
    return CHARTS[kind](result) if result else None


@register.filter
def percent(value):
    return f"{float(value) * 100:.1f}%" if value is not None else ""
