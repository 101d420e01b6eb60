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
  // A section with data-poll is re-read from the server every 2 s until it no longer has it.
  const poll = async () => {
    const section = document.querySelector("section[data-poll][id]");
    if (!section) return;
    const response = await fetch(window.location.href, { headers: { "X-Requested-With": "poll" } });
    if (response.ok) {
      const html = new DOMParser().parseFromString(await response.text(), "text/html");
      const fresh = html.getElementById(section.id);
      if (fresh) section.replaceWith(fresh);
    }
    window.setTimeout(poll, 2000);
  };
  window.setTimeout(poll, 2000);
  document.querySelectorAll("form[data-confirm]").forEach((form) => {
    form.addEventListener("submit", (event) => {
      if (!window.confirm(form.dataset.confirm)) event.preventDefault();
    });
  });
});
