// Small behaviours shared by every page: org switcher, copy buttons, confirmations.
document.addEventListener("DOMContentLoaded", () => {
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
  document.querySelectorAll("form[data-confirm]").forEach((form) => {
    form.addEventListener("submit", (event) => {
      if (!window.confirm(form.dataset.confirm)) event.preventDefault();
    });
  });
});
