// VoicePay console: ticking wait times and the live queue (server-sent events). No build step.
"use strict";
(function () {
  function pad(n) { return n < 10 ? "0" + n : String(n); }

  function formatWait(seconds) {
    const s = Math.max(0, seconds);
    const h = Math.floor(s / 3600);
    const m = Math.floor((s % 3600) / 60);
    const x = s % 60;
    return h ? h + ":" + pad(m) + ":" + pad(x) : m + ":" + pad(x);
  }

  function tick() {
    const now = Date.now() / 1000;
    document.querySelectorAll("[data-since]").forEach(function (el) {
      el.textContent = formatWait(Math.floor(now - Number(el.dataset.since)));
    });
  }

  function recount(body) {
    const n = body.querySelectorAll("tr.transfer").length;
    const counter = document.getElementById("waiting-count");
    const empty = document.getElementById("queue-empty");
    if (counter) { counter.textContent = String(n); }
    if (empty) { empty.hidden = n > 0; }
  }

  function follow(table) {
    const body = table.tBodies[0];
    const live = document.getElementById("live");
    const source = new EventSource(table.dataset.events);
    source.onopen = function () { live.textContent = "live"; live.className = "live on"; };
    source.onerror = function () { live.textContent = "reconnecting…"; live.className = "live"; };
    source.addEventListener("transfer", function (event) {
      const holder = document.createElement("template");
      holder.innerHTML = event.data.trim();
      const row = holder.content.querySelector("tr");
      if (row && !document.getElementById(row.id)) {
        row.classList.add("new");
        body.appendChild(row);
        recount(body);
        tick();
      }
    });
    source.addEventListener("accepted", function (event) {
      const data = JSON.parse(event.data);
      const row = document.getElementById("t-" + data.queue + "-" + data.ref);
      if (row) { row.remove(); recount(body); }
    });
  }

  const table = document.getElementById("queue");
  if (table && table.dataset.events) { follow(table); }
  tick();
  setInterval(tick, 1000);
})();
