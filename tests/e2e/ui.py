"""What a person does and sees in the browser: log in, field errors, drawn charts."""

import re

from playwright.sync_api import Page, expect

PASSWORD = "pw"


def log_in(page: Page, email: str, password: str = PASSWORD, path: str = "/accounts/login/"):
    page.goto(path)
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    expect(page).not_to_have_url(re.compile(r"/login/"))


def field_error(page: Page, label: str):
    """The field block (label, input, error list) of the input labelled `label`, if it shows
    an error."""
    return page.locator(".field.has-error").filter(has=page.get_by_label(label, exact=True))


CHART_STATE = """canvas => {
  const chart = Chart.getChart(canvas);
  if (!chart) return null;
  const pixels = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height).data;
  let painted = 0;
  for (let i = 3; i < pixels.length; i += 4) if (pixels[i] !== 0) painted++;
  return {
    width: canvas.width,
    height: canvas.height,
    painted,
    datasets: chart.data.datasets.map(d => ({label: d.label ?? "", data: d.data})),
  };
}"""


def drawn_chart(page: Page, chart_id: str) -> dict:
    """Asserts the Chart.js chart of <canvas data-chart=chart_id> is drawn with data; returns
    its size, painted pixel count, and per dataset label its data and number of points."""
    canvas = page.locator(f'canvas[data-chart="{chart_id}"]')
    expect(canvas).to_have_attribute("data-drawn", "true")
    state = canvas.evaluate(CHART_STATE)
    assert state is not None, f"no Chart.js instance on {chart_id}"
    assert state["width"] > 0 and state["height"] > 0, state
    assert state["painted"] > 0, f"{chart_id} is blank"
    data = {d["label"]: d["data"] for d in state["datasets"]}
    points = {label: sum(v is not None for v in values) for label, values in data.items()}
    assert sum(points.values()) > 0, f"{chart_id} has no data points: {state}"
    return {**state, "data": data, "points": points}


def open_section(page: Page, name: str, sub: str | None = None):
    """Click `name` in the organization's main navigation, then `sub` in its section's own."""
    page.get_by_role("navigation", name="Organization").get_by_role(
        "link", name=name, exact=True
    ).click()
    if sub:
        page.locator("nav.subnav").get_by_role("link", name=sub, exact=True).click()
