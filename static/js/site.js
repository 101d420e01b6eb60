// Small behaviours shared by every page: org switcher, copy buttons, confirmations, bar widths.
// Bars carry their width in data-width (percent): the Content-Security-Policy forbids inline
// style attributes, but styles set from a script are allowed.
const applyWidths = (root) => {
  root.querySelectorAll("[data-width]").forEach((bar) => {
    bar.style.width = `${Math.min(100, Math.max(0, Number(bar.dataset.width) || 0))}%`;
  });
};

document.addEventListener("DOMContentLoaded", () => {
  applyWidths(document);
  const switcher = document.querySelector("[data-org-switcher] select");
  if (switcher) {
    switcher.addEventListener("change", () => { window.location.href = switcher.value; });
  }
  document.querySelectorAll("[data-copy]").forEach((button) => {
    button.addEventListener("click", async () => {
      const input = document.querySelector(button.dataset.copy);
      input.select();
      try {
        await navigator.clipboard.writeText(input.value);
        button.textContent = "Copied";
      } catch (err) {
        button.textContent = "Press Ctrl+C";
      }
    });
  });
  // A section with data-poll is re-read from the server every 2 s until it no longer has it.
  const poll = async () => {
    const section = document.querySelector("section[data-poll][id]");
    if (!section) return;
    const response = await fetch(window.location.href, { headers: { "X-Requested-With": "poll" } });
    if (response.ok) {
      const html = new DOMParser().parseFromString(await response.text(), "text/html");
      const fresh = html.getElementById(section.id);
      if (fresh) {
        applyWidths(fresh);
        section.replaceWith(fresh);
      }
    }
    window.setTimeout(poll, 2000);
  };
  window.setTimeout(poll, 2000);
  // Formsets: clone the last row, renumber its fields and bump TOTAL_FORMS.
  document.querySelectorAll("[data-add-row]").forEach((button) => {
    button.addEventListener("click", () => {
      const table = document.querySelector(button.dataset.addRow);
      const rows = table.querySelectorAll("tbody tr.test-row");
      const last = rows[rows.length - 1];
      const total = button.form.querySelector('input[name$="-TOTAL_FORMS"]');
      const index = Number(total.value);
      const clone = last.cloneNode(true);
      clone.querySelectorAll("input, select").forEach((field) => {
        field.name = field.name.replace(/-\d+-/, `-${index}-`);
        field.id = field.id.replace(/-\d+-/, `-${index}-`);
        if (field.tagName === "INPUT") field.value = "";
      });
      clone.querySelectorAll(".errorlist").forEach((e) => e.remove());
      last.after(clone);
      total.value = index + 1;
    });
  });
  document.querySelectorAll("form[data-confirm]").forEach((form) => {
    form.addEventListener("submit", (event) => {
      if (!window.confirm(form.dataset.confirm)) event.preventDefault();
    });
  });
});
