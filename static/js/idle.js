// Idle resources page: "select all", and the monthly saving of the selected rows. Listeners sit
// on the document because site.js replaces the polled section when a scan finishes.
document.addEventListener("change", (event) => {
  const box = event.target;
  if (!(box instanceof HTMLInputElement) || box.type !== "checkbox" || !box.form) return;
  const rows = box.form.querySelectorAll('input[name="resources"]');
  if (box.matches("[data-select-all]")) {
    rows.forEach((row) => { row.checked = box.checked; });
  }
  const total = box.form.querySelector("[data-selected-total]");
  if (!total) return;
  // Sum in ten-thousandths (the stored precision) so the total is exact.
  let units = 0;
  let count = 0;
  rows.forEach((row) => {
    if (!row.checked) return;
    count += 1;
    units += Math.round(Number(row.dataset.monthly) * 10000);
  });
  total.textContent = count
    ? `${count} selected: ${(units / 10000).toFixed(4)} ${total.dataset.currency} a month`
    : "";
});
