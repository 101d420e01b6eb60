// Draws every <canvas data-chart="ID"> from the JSON in <script id="ID">, using Chart.js.
document.addEventListener("DOMContentLoaded", () => {
  if (typeof Chart === "undefined") return;
  document.querySelectorAll("canvas[data-chart]").forEach((canvas) => {
    const source = document.getElementById(canvas.dataset.chart);
    if (!source) return;
    const spec = JSON.parse(source.textContent);
    if (!spec) return;
    const horizontal = spec.indexAxis === "y";
    canvas.chart = new Chart(canvas, {
      type: spec.type,
      data: { labels: spec.labels, datasets: spec.datasets },
      options: {
        responsive: true,
        maintainAspectRatio: false,
        indexAxis: spec.indexAxis || "x",
        animation: false,
        spanGaps: false,
        plugins: {
          title: { display: Boolean(spec.title), text: spec.title },
          legend: { display: spec.type === "doughnut" || spec.datasets.length > 1 },
        },
        scales: spec.type === "doughnut" ? {} : spec.scales || {
          [horizontal ? "x" : "y"]: { beginAtZero: true },
        },
      },
    });
    canvas.dataset.drawn = "true";
  });
});
