"""Chart.js data for results (pages pass it through json_script; static/js/charts.js draws)."""

COLOURS = ["#1f6feb", "#e8590c", "#2f9e44", "#ae3ec9", "#f08c00", "#1098ad", "#868e96"]


def estimate_chart(result: dict) -> dict:
    parts = [(k.replace("_", " "), float(v)) for k, v in result["breakdown"].items() if float(v)]
    return {
        "type": "doughnut",
        "title": f"Cost breakdown ({result['currency']})",
        "labels": [p[0] for p in parts],
        "datasets": [{"data": [round(p[1], 2) for p in parts], "backgroundColor": COLOURS}],
    }


def compare_chart(result: dict, top: int = 15) -> dict:
    rows = result["results"][:top]
    return {
        "type": "bar",
        "title": f"Total cost, cheapest {len(rows)}",
        "indexAxis": "y",
        "labels": [
            f"{r['provider']} {r['region']} {r['instance_type']} {r['purchase_option']}"
            for r in rows
        ],
        "datasets": [
            {
                "label": rows[0]["currency"] if rows else "USD",
                "data": [float(r["total_cost"]) for r in rows],
                "backgroundColor": [
                    COLOURS[1] if r["purchase_option"] == "spot" else COLOURS[0] for r in rows
                ],
            }
        ],
    }


def commitment_chart(result: dict) -> dict:
    return {
        "type": "bar",
        "title": f"Monthly cost by plan ({result['currency']})",
        "labels": [p["plan"].replace("_", " ") for p in result["plans"]],
        "datasets": [
            {
                "label": "per month",
                "data": [float(p["monthly_cost"]) for p in result["plans"]],
                "backgroundColor": COLOURS,
            }
        ],
    }


def ci_plan_chart(result: dict) -> dict:
    tests = result["tests"]

    def monthly(test, key):
        row = test.get(key)
        return float(row["cost_per_month"]) if row else None

    datasets = [
        {
            "label": "on demand",
            "data": [monthly(t, "recommended_on_demand") for t in tests],
            "backgroundColor": COLOURS[0],
        },
        {
            "label": "spot",
            "data": [monthly(t, "recommended_spot") for t in tests],
            "backgroundColor": COLOURS[1],
        },
    ]
    if any(t.get("current") for t in tests):
        datasets.append(
            {
                "label": "current",
                "data": [monthly(t, "current") for t in tests],
                "backgroundColor": COLOURS[6],
            }
        )
    return {
        "type": "bar",
        "title": "Cost per month by test",
        "labels": [t["name"] for t in tests],
        "datasets": datasets,
    }


CHARTS = {
    "estimate": estimate_chart,
    "compare": compare_chart,
    "commitment": commitment_chart,
    "ci_plan": ci_plan_chart,
}
