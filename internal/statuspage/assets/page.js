// The status page's live updates: poll /api/status and rebuild the parts
// of the page from it. Everything from the server is set as text (never as
// HTML): keys and errors are user data.
"use strict";
(function () {
  const poll = Number(document.body.dataset.pollMs) || 1000;

  function el(tag, cls, text) {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined && text !== null) e.textContent = String(text);
    return e;
  }
  function span(cls, text) { return el("span", cls, text); }
  function append(parent, ...kids) { for (const k of kids) parent.append(k); return parent; }
  function replace(id, ...kids) { const p = document.getElementById(id); p.replaceChildren(...kids); return p; }

  function renderLoad(s) {
    const kids = [];
    const l = s.load;
    if (!l) {
      kids.push(span("muted", "no load yet"));
    } else {
      const st = span("state state-" + l.state, l.state);
      st.id = "load-state";
      const id = el("code", "", l.id);
      id.id = "load-id";
      const elapsed = span("", l.elapsed);
      elapsed.id = "load-elapsed";
      kids.push(st, " load ", id, ", started " + l.started + ", ", elapsed);
      if (l.from_text) kids.push(" ", span("from muted", l.from_text));
      if (l.stale) kids.push(span("stale", l.stale));
    }
    replace("load", ...kids);
    const c = s.coordinator;
    replace("coordinator", c ? c.text : span("muted", "no coordinator holds the job's lease"));
    replace("problems", ...s.problems.map((p) => el("li", "", p)));
  }

  function renderTables(s) {
    if (s.tables.length === 0) { replace("tables", el("p", "muted", "no tables yet")); return; }
    replace("tables", ...s.tables.map((t) => {
      const d = el("div", "table");
      d.dataset.table = t.name;
      append(d, append(el("div", "row"), span("name", t.name), span("phase phase-" + t.phase, t.phase), span("files", t.files_text)));
      const bar = el("progress", "bar phase-" + t.phase, t.percent + "%");
      bar.max = 100;
      bar.value = Number(t.percent);
      d.append(bar);
      let counts = `${t.loaded} loaded · ${t.failed} failed · ${t.changed} changed · ${t.in_flight} in flight`;
      if (t.reused) counts += ` · ${t.reused} reused`;
      append(d, append(el("div", "row figures"), span("mb", t.mb_text), span("rows", t.rows_text),
        span("rate", t.rate_text), span("eta", t.eta_text), span("counts", counts)));
      if (t.error) d.append(el("div", "error", t.error));
      return d;
    }));
  }

  function row(...cells) {
    const tr = el("tr");
    for (const c of cells) tr.append(c instanceof Node ? c : el("td", "", c));
    return tr;
  }

  function renderFailures(s) {
    document.querySelector("#failures tbody").replaceChildren(...s.failures.map((f) =>
      row(f.table, el("td", "key", f.key), f.state, f.attempts, el("td", "error", f.error))));
  }

  function renderWorkers(s) {
    document.getElementById("workers-gone").textContent = s.gone_text || "";
    document.querySelector("#workers tbody").replaceChildren(...s.workers.map((w) => {
      const name = el("td", "", w.id);
      if (w.paused) append(name, " ", span("error", "paused: " + w.paused));
      const held = el("td");
      if (w.holding.length === 0) held.append(span("muted", "idle"));
      for (const h of w.holding) {
        append(held, append(el("div", "held"), span("key", h.table + ": " + h.key), " ",
          span("muted", `${h.rows_text}, ${h.mb_text}, for ${h.for}`)));
      }
      return row(name, w.host + "/" + w.pid, w.slots, w.seen, held);
    }));
  }

  function renderHistory(s) {
    if (s.history.length === 0) { replace("history", el("p", "muted", "no finished load yet")); return; }
    replace("history", ...s.history.map((p) => {
      const d = el("div", "past");
      append(d, append(el("div", "row"), el("code", "", p.id), " ", span("state state-" + p.state, p.state), " ",
        span("muted", `started ${p.started}, took ${p.duration}`)));
      const ul = el("ul");
      for (const t of p.tables) {
        const li = append(el("li"), span("name", t.table), " ", span(t.committed ? "ok" : "error", t.outcome),
          ` ${t.files_text}, ${t.rows_text}, ${t.mb_text}`);
        if (t.error) append(li, " ", span("error", t.error));
        ul.append(li);
      }
      d.append(ul);
      return d;
    }));
  }

  const updated = document.getElementById("updated");
  async function tick() {
    try {
      const resp = await fetch("/api/status", { cache: "no-store" });
      if (!resp.ok) throw new Error(resp.status + " " + resp.statusText);
      const s = await resp.json();
      renderLoad(s);
      renderTables(s);
      renderFailures(s);
      renderWorkers(s);
      renderHistory(s);
      updated.textContent = "updated " + new Date(s.now).toLocaleTimeString();
      updated.className = "";
      document.body.dataset.updates = String(Number(document.body.dataset.updates || 0) + 1);
    } catch (err) {
      updated.textContent = "cannot reach s3load: " + err.message;
      updated.className = "error";
    }
    setTimeout(tick, poll);
  }
  setTimeout(tick, poll);
})();
