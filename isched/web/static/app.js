// isched pages: follow a running job, and cancel or delete one. No framework.
"use strict";

function follow(box) {
  const url = box.dataset.poll;
  const fill = box.querySelector(".fill");
  const phase = box.querySelector(".phase");
  const tick = async () => {
    try {
      const response = await fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" });
      if (response.status === 401 || response.status === 404) {
        window.location.reload(); // logged out or deleted elsewhere: the page says which
        return;
      }
      if (response.ok) {
        const job = await response.json();
        if (job.status !== "queued" && job.status !== "running") {
          window.location.reload();
          return;
        }
        fill.style.width = (100 * job.progress.fraction).toFixed(1) + "%";
        phase.textContent = job.progress.phase;
        document.getElementById("job-status").textContent = job.status;
      }
    } catch (error) {
      // the server may be restarting: try again
    }
    window.setTimeout(tick, 1000);
  };
  window.setTimeout(tick, 1000);
}

function watch(box) {
  // the jobs list: reload when a job appears (say, another coordinator's), goes, or changes
  // its status; every 2 s while one is queued or running, every 5 s otherwise
  const shown = {};
  box.querySelectorAll("tr[data-id]").forEach((row) => { shown[row.dataset.id] = row.dataset.status; });
  const statuses = Object.values(shown);
  const every = statuses.some((s) => s === "queued" || s === "running") ? 2000 : 5000;
  const tick = async () => {
    try {
      const response = await fetch(box.dataset.watch, { headers: { Accept: "application/json" }, credentials: "same-origin" });
      if (response.status === 401) {
        window.location.reload(); // logged out elsewhere: the login form, then back here
        return;
      }
      if (response.ok) {
        const jobs = await response.json();
        const changed = jobs.length !== statuses.length
          || jobs.some((job) => !(job.id in shown) || shown[job.id] !== job.status);
        if (changed) {
          window.location.reload();
          return;
        }
      }
    } catch (error) {
      // the server may be restarting: try again
    }
    window.setTimeout(tick, every);
  };
  window.setTimeout(tick, every);
}

function deleter(form) {
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (!window.confirm(form.dataset.confirm)) return;
    const response = await fetch(form.dataset.delete, {
      method: "DELETE",
      headers: { Accept: "application/json" },
      credentials: "same-origin",
    });
    const result = response.ok ? await response.json() : {};
    if (result.deleted) window.location.assign("/");
    else window.location.reload();
  });
}

document.addEventListener("DOMContentLoaded", () => {
  document.querySelectorAll("[data-poll]").forEach(follow);
  document.querySelectorAll("[data-watch]").forEach(watch);
  document.querySelectorAll("form[data-delete]").forEach(deleter);
});
