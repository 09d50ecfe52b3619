// Live updates for the hotline's pages: the server pushes fragments of HTML (rendered
// as the page itself was) over Server-Sent Events, and this replaces them by id. Times
// shown as "for 1:23" tick here from their data-since, with no request.
"use strict";

function tick() {
  const now = Date.now() / 1000;
  for (const el of document.querySelectorAll("[data-since]")) {
    const secs = Math.max(0, Math.floor(now - parseFloat(el.dataset.since)));
    const h = Math.floor(secs / 3600), m = Math.floor(secs / 60) % 60, s = secs % 60;
    el.textContent = (h ? h + ":" + String(m).padStart(2, "0") : m) + ":" +
      String(s).padStart(2, "0");
  }
}

function follow(view) {
  const link = document.getElementById("link");
  const source = new EventSource("/events?view=" + encodeURIComponent(view));
  const live = link ? link.textContent : "";
  source.addEventListener("fragments", (event) => {
    const update = JSON.parse(event.data);
    for (const [id, html] of Object.entries(update.fragments)) {
      const el = document.getElementById(id);
      if (el) el.outerHTML = html;
    }
    document.body.dataset.change = update.change;
    document.body.dataset.appliedAt = String(Date.now());
    document.body.dataset.updates = String(Number(document.body.dataset.updates || 0) + 1);
    if (link) {
      link.textContent = update.live ? live : document.body.dataset.reconnecting;
      link.classList.toggle("down", !update.live);
    }
    tick();
  });
  source.addEventListener("error", () => {
    if (link) {
      link.textContent = document.body.dataset.reconnecting;
      link.classList.add("down");
    }
    // The browser retries a stream that dropped by itself; one the server refused (the
    // session ended, Redis away) is closed for good: the page loads again, which leads
    // to the login when the session is gone.
    if (source.readyState === EventSource.CLOSED) setTimeout(() => location.reload(), 5000);
  });
}

// The routing YAML's text area keeps its line numbers: the gutter scrolls with it and
// follows the lines typed (the marks of a check stay on their lines until the next).
function editor() {
  const text = document.querySelector(".editor textarea");
  const gutter = document.querySelector(".editor .gutter");
  if (!text || !gutter) return;
  const marks = {};
  for (const span of gutter.children) marks[span.textContent] = span.className;
  const number = () => {
    const lines = text.value.split("\n").length;
    if (gutter.children.length === lines) return;
    gutter.replaceChildren(...Array.from({length: lines}, (_, i) => {
      const span = document.createElement("span");
      span.id = "L" + (i + 1);
      span.textContent = String(i + 1);
      span.className = marks[String(i + 1)] || "";
      return span;
    }));
  };
  text.addEventListener("input", number);
  text.addEventListener("scroll", () => { gutter.scrollTop = text.scrollTop; });
  window.addEventListener("hashchange", () => {
    const line = parseInt(location.hash.slice(2), 10);  // #L12: that line of the text
    if (!line) return;
    const height = text.scrollHeight / text.value.split("\n").length;
    text.scrollTop = (line - 3) * height;
    text.focus();
  });
}

document.addEventListener("DOMContentLoaded", () => {
  editor();
  tick();
  setInterval(tick, 1000);
  const view = document.body.dataset.live;
  if (view) follow(view);
  const full = document.getElementById("full-screen");
  if (full) {
    full.addEventListener("click", () => {
      document.body.classList.toggle("wall");
      if (document.fullscreenElement) document.exitFullscreen();
      else document.documentElement.requestFullscreen().catch(() => {});
    });
  }
});
