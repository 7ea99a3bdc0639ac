// entrygate console: small progressive enhancements. Every page works without this file.
"use strict";
(function () {
  const FRAGMENT = { "X-Console-Fragment": "1" };

  async function post(form, button, target) {
    const body = new FormData(form);
    const response = await fetch(button.getAttribute("formaction") || form.action,
      { method: "POST", body, headers: FRAGMENT, credentials: "same-origin" });
    target.innerHTML = await response.text();
  }

  // Buttons with data-target submit their form in the background and show the answer in place.
  document.addEventListener("click", (event) => {
    const button = event.target.closest("button[data-target]");
    if (!button || !button.form) return;
    event.preventDefault();
    const target = document.querySelector(button.dataset.target);
    target.setAttribute("aria-busy", "true");
    post(button.form, button, target).finally(() => target.removeAttribute("aria-busy"));
  });

  // Inputs with data-live-test re-run their test button as the user types (the QR tester).
  document.querySelectorAll("[data-live-test]").forEach((input) => {
    const button = document.querySelector(input.dataset.liveTest);
    let timer;
    const run = () => { clearTimeout(timer); timer = setTimeout(() => button.click(), 250); };
    input.addEventListener("input", run);
    document.querySelectorAll("[data-qr-pattern]").forEach((p) => p.addEventListener("input", run));
    input.addEventListener("keydown", (e) => { if (e.key === "Enter") { e.preventDefault(); button.click(); } });
  });

  // Copy buttons next to keys and secrets that are shown once.
  document.addEventListener("click", (event) => {
    const button = event.target.closest("button[data-copy]");
    if (!button) return;
    const text = document.querySelector(button.dataset.copy).textContent.trim();
    navigator.clipboard.writeText(text).then(() => { button.textContent = "Copied"; });
  });

  // The live table: new decisions are fetched every few seconds and added on top.
  const rows = document.querySelector("[data-live-url]");
  if (rows) {
    const toggle = document.querySelector("[data-live-toggle]");
    const status = document.getElementById("live-status");
    const announce = document.getElementById("live-announce");
    let paused = false;
    toggle.hidden = false;
    toggle.addEventListener("click", () => {
      paused = !paused;
      toggle.textContent = paused ? "Resume updates" : "Pause updates";
    });
    const poll = async () => {
      if (paused || document.hidden) return;
      const url = rows.dataset.liveUrl + (rows.dataset.liveUrl.includes("?") ? "&" : "?") + "after=" + rows.dataset.after;
      const response = await fetch(url, { headers: FRAGMENT, credentials: "same-origin" });
      if (!response.ok) { status.textContent = "Updates stopped: reload the page."; return; }
      const template = document.createElement("template");
      template.innerHTML = await response.text();
      const fresh = [...template.content.querySelectorAll("tr[data-id]")]
        .filter((tr) => !rows.querySelector(`tr[data-id="${tr.dataset.id}"]`));
      fresh.reverse().forEach((tr) => { tr.classList.add("new"); rows.prepend(tr); });
      while (rows.children.length > 300) rows.lastElementChild.remove();
      rows.dataset.after = response.headers.get("X-Console-After") || rows.dataset.after;
      // The store's clock, as the server read it: the page never mixes in the browser's.
      const updated = response.headers.get("X-Console-Updated");
      if (updated) status.textContent = "Live: updated " + updated + " (store time, " + rows.dataset.zone + ").";
      if (fresh.length) {
        announce.textContent = fresh.length + (fresh.length === 1 ? " new decision." : " new decisions.");
        const empty = document.getElementById("live-empty");
        if (empty) empty.remove();
      }
    };
    setInterval(() => poll().catch(() => { status.textContent = "Updates paused: connection lost."; }),
      Number(rows.dataset.interval || 2000));
  }

  // Regions with data-refresh are re-rendered from the server now and then (the dashboard).
  document.querySelectorAll("[data-refresh]").forEach((region) => {
    setInterval(async () => {
      if (document.hidden) return;
      const response = await fetch(region.dataset.refresh, { headers: FRAGMENT, credentials: "same-origin" });
      if (response.ok) region.innerHTML = await response.text();
    }, Number(region.dataset.interval || 10000));
  });
})();
