"""Chart.js specs for budget pages (drawn by static/js/charts.js from json_script)."""

BLUE, ORANGE, GREY, RED = "#1f6feb", "#e8590c", "#868e96", "#c62828"


def budget_chart(chart: dict, thresholds: list[float]) -> dict:
    """Cumulative spend, the budget line, threshold lines and the forecast band."""
    labels = chart["labels"]
    n = len(labels)
    start = labels.index(chart["forecast_start"]) if chart["forecast_start"] in labels else 0
    last_actual = chart["actual"][-1] if chart["actual"] else 0.0

    def ramp(end_value):
        steps = max(n - 1 - start, 1)
        return [None] * start + [
            round(last_actual + (end_value - last_actual) * i / steps, 4) for i in range(n - start)
        ]

    amount = chart["budget"]
    datasets = [
        {
            "label": "spent",
            "data": chart["actual"],
            "borderColor": BLUE,
            "backgroundColor": BLUE,
            "pointRadius": 0,
            "fill": False,
        },
        {
            "label": "budget",
            "data": [amount] * n,
            "borderColor": RED,
            "pointRadius": 0,
            "borderWidth": 2,
        },
        {
            "label": "forecast",
            "data": ramp(chart["forecast"]["expected"]),
            "borderColor": ORANGE,
            "borderDash": [6, 4],
            "pointRadius": 0,
        },
        {
            "label": "forecast high",
            "data": ramp(chart["forecast"]["high"]),
            "borderColor": "rgba(232,89,12,0.25)",
            "backgroundColor": "rgba(232,89,12,0.12)",
            "pointRadius": 0,
            "fill": "+1",
        },
        {
            "label": "forecast low",
            "data": ramp(chart["forecast"]["low"]),
            "borderColor": "rgba(232,89,12,0.25)",
            "pointRadius": 0,
        },
    ]
    for percent in thresholds:
        datasets.append(
            {
                "label": f"{percent:g}% threshold",
                "data": [amount * percent / 100] * n,
                "borderColor": GREY,
                "borderDash": [2, 3],
                "pointRadius": 0,
                "borderWidth": 1,
            }
        )
    return {
        "type": "line",
        "title": f"Cumulative spend ({chart['currency']})",
        "labels": labels,
        "datasets": datasets,
    }


def daily_chart(daily: dict) -> dict:
    return {
        "type": "bar",
        "title": f"Spend per day ({daily['currency']})",
        "labels": [g["key"] for g in daily["groups"]],
        "datasets": [
            {
                "label": daily["currency"],
                "data": [float(g["total"]) for g in daily["groups"]],
                "backgroundColor": BLUE,
            }
        ],
    }


def groups_chart(result: dict, top: int = 12) -> dict:
    groups = result["groups"][:top]
    return {
        "type": "bar",
        "indexAxis": "y",
        "title": f"By {result['group_by']} ({result['currency']})",
        "labels": [g["key"] or "(none)" for g in groups],
        "datasets": [
            {
                "label": result["currency"],
                "data": [float(g["total"]) for g in groups],
                "backgroundColor": ORANGE,
            }
        ],
    }
