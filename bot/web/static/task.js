// The live release page: draws the task's pipeline as SVG and keeps it current from the
// server-sent events of /tasks/ID/events. Plain JS, no libraries, works offline.
(function () {
  "use strict";

  var SVG = "http://www.w3.org/2000/svg";
  var GROUP_BEYOND = 40; // more servers than this: one row per chain status, expandable
  var STATUS_ORDER = ["failed", "running", "pending", "succeeded", "skipped"];
  var MAX_LINES = 5000; // live lines kept per running node in this page
  var W = 118, H = 42, GAP = 22, LABEL = 160, ROW = 58, TOP = 16;

  var base = location.pathname.replace(/\/+$/, "");
  var query = location.search;
  var state = null;
  var selected = null; // the selected node's key, STAGE:SERVER
  var expanded = { failed: true };
  var lines = {}; // key -> live lines seen since this page opened
  var loading = null; // the key whose stored output is being fetched

  function url(suffix) { return base + suffix + query; }

  function el(name, attrs, text) {
    var node = document.createElementNS(SVG, name);
    Object.keys(attrs || {}).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function byId(id) { return document.getElementById(id); }

  function chainState(statuses) {
    var has = function (s) { return statuses.indexOf(s) >= 0; };
    if (has("failed")) return "failed";
    if (has("running") || (has("pending") && has("succeeded"))) return "running";
    if (statuses.length && statuses.every(function (s) { return s === "succeeded" || s === "skipped"; }))
      return has("succeeded") ? "succeeded" : "skipped";
    return "pending";
  }

  function formatSeconds(s) {
    if (s === null || s === undefined || isNaN(s)) return "";
    if (s < 60) return s.toFixed(s < 10 ? 1 : 0) + "s";
    var m = Math.floor(s / 60), r = Math.round(s % 60);
    if (m < 60) return m + "m " + r + "s";
    return Math.floor(m / 60) + "h " + (m % 60) + "m";
  }

  function elapsed(item) {
    if (item.seconds !== null && item.seconds !== undefined) return item.seconds;
    if (item.status === "running" && item.started_at)
      return Math.max(0, (Date.now() - Date.parse(item.started_at)) / 1000);
    return null;
  }

  function title(node) { return node.stage + " on " + (node.server || "local"); }

  // ---- facts ----

  function fact(dl, name, value) {
    if (value === null || value === undefined || value === "") return;
    dl.appendChild(Object.assign(document.createElement("dt"), { textContent: name }));
    var dd = document.createElement("dd");
    dd.textContent = value;
    dd.dataset.fact = name.toLowerCase();
    dl.appendChild(dd);
  }

  function renderFacts(s) {
    document.title = "#" + s.id + " " + s.project + " " + s.env + " " + s.version + " — " + s.status;
    byId("task-name").textContent = (s.kind === "rollback" ? "Rollback " : "Release ") + "#" + s.id +
      ": " + s.project + " → " + s.env;
    var status = byId("task-status");
    status.textContent = s.status;
    status.dataset.status = s.status;
    byId("task-subject").textContent = s.subject || "";
    var dl = byId("task-facts");
    dl.textContent = "";
    fact(dl, "Version", s.version);
    fact(dl, "Ref", s.ref);
    fact(dl, "Commit", s.commit);
    fact(dl, "Requester", s.requester + (s.via ? " (via " + s.via + ")" : ""));
    fact(dl, "Approvals", s.approvals.length ? s.approvals.map(function (a) {
      return a.reviewer + " " + (a.decision === "approve" ? "approved" : "rejected");
    }).join(", ") : "none");
    fact(dl, "Mode", s.mode + (s.canary_servers.length ? " (" + s.canary_servers.join(", ") + ")" : ""));
    fact(dl, "Started", s.started_at ? new Date(s.started_at).toLocaleString() : "not yet");
    fact(dl, "Finished", s.finished_at ? new Date(s.finished_at).toLocaleString() : "");
    fact(dl, "Duration", formatSeconds(elapsed(s)));
    fact(dl, "Sent", s.transfer);
    fact(dl, "Time per stage", s.timing);
    if (s.steps.length > 1) fact(dl, "Plan", s.steps.map(function (p) {
      return p.step + ". " + p.text + " — " + p.state;
    }).join("; "));
    fact(dl, "Reason", s.reason);
    fact(dl, "Note", s.note);
    byId("download-task").href = url("/log.txt");
  }

  // ---- the diagram ----

  function drawNode(svg, node, x, y) {
    var g = el("g", {
      "class": "node" + (node.key === selected ? " selected" : ""),
      "data-node": node.key, "data-status": node.status, "data-id": node.id,
      tabindex: "0", role: "button", "aria-label": title(node) + ": " + node.status,
      transform: "translate(" + x + "," + y + ")"
    });
    g.appendChild(el("title", {}, title(node) + ": " + node.status + (node.error ? " — " + node.error : "")));
    g.appendChild(el("rect", { width: W, height: H, rx: 6 }));
    g.appendChild(el("text", { x: 8, y: 17, "class": "stage" }, node.stage));
    g.appendChild(el("text", { x: 8, y: 34, "class": "duration" }, formatSeconds(elapsed(node))));
    g.addEventListener("click", function () { select(node.key); });
    g.addEventListener("keydown", function (e) {
      if (e.key === "Enter" || e.key === " ") { e.preventDefault(); select(node.key); }
    });
    svg.appendChild(g);
  }

  function drawChain(svg, nodes, y) {
    nodes.forEach(function (node, i) {
      var x = LABEL + i * (W + GAP);
      if (i > 0) svg.appendChild(el("path", { "class": "edge", d: "M" + (x - GAP) + "," + (y + H / 2) + " H" + x }));
      drawNode(svg, node, x, y);
    });
  }

  function drawServer(svg, server, nodes, y) {
    svg.appendChild(el("text", { x: 12, y: y + H / 2 + 4, "class": "server-label", "data-server": server }, server));
    drawChain(svg, nodes, y);
  }

  function drawGroup(svg, status, servers, y, width) {
    var open = !!expanded[status];
    var g = el("g", {
      "class": "group", "data-group": status, "data-status": status, "data-count": servers.length,
      "aria-expanded": String(open), tabindex: "0", role: "button"
    });
    g.appendChild(el("rect", { x: 8, y: y, width: width - 16, height: H, rx: 6 }));
    var noun = servers.length === 1 ? " server" : " servers";
    g.appendChild(el("text", { x: 20, y: y + H / 2 + 5 }, (open ? "▾ " : "▸ ") + status + ": " + servers.length + noun));
    var toggle = function () { expanded[status] = !open; render(); };
    g.addEventListener("click", toggle);
    g.addEventListener("keydown", function (e) { if (e.key === "Enter" || e.key === " ") { e.preventDefault(); toggle(); } });
    svg.appendChild(g);
  }

  function renderPipeline(s) {
    var svg = byId("pipeline");
    svg.textContent = "";
    var local = [], chains = {}, servers = [];
    s.nodes.forEach(function (n) {
      if (!n.server) { local.push(n); return; }
      if (!chains[n.server]) { chains[n.server] = []; servers.push(n.server); }
      chains[n.server].push(n);
    });
    var longest = local.length;
    servers.forEach(function (name) { longest = Math.max(longest, chains[name].length); });
    var width = LABEL + longest * (W + GAP) + 10;
    var rows = []; // [kind, y] for the branches off the trunk
    var y = TOP;
    if (local.length) {
      svg.appendChild(el("text", { x: 12, y: y + H / 2 + 4, "class": "server-label" }, "local"));
      drawChain(svg, local, y);
      y += ROW + 10;
    }
    if (servers.length > GROUP_BEYOND) {
      var byStatus = {};
      servers.forEach(function (name) {
        var st = chainState(chains[name].map(function (n) { return n.status; }));
        (byStatus[st] = byStatus[st] || []).push(name);
      });
      STATUS_ORDER.forEach(function (st) {
        if (!byStatus[st]) return;
        drawGroup(svg, st, byStatus[st], y, width);
        y += ROW;
        if (expanded[st]) byStatus[st].forEach(function (name) {
          drawServer(svg, name, chains[name], y);
          rows.push(y);
          y += ROW;
        });
      });
    } else {
      servers.forEach(function (name) { drawServer(svg, name, chains[name], y); rows.push(y); y += ROW; });
    }
    if (local.length && rows.length) drawTrunk(svg, local.length, rows);
    svg.setAttribute("width", width);
    svg.setAttribute("height", y);
    svg.setAttribute("viewBox", "0 0 " + width + " " + y);
  }

  function drawTrunk(svg, localCount, rows) {
    var lastX = LABEL + (localCount - 1) * (W + GAP) + W / 2;
    var trunkX = LABEL - 12, bend = TOP + H + 10, last = rows[rows.length - 1] + H / 2;
    var d = "M" + lastX + "," + (TOP + H) + " V" + bend + " H" + trunkX + " V" + last;
    rows.forEach(function (ry) { d += " M" + trunkX + "," + (ry + H / 2) + " H" + LABEL; });
    svg.insertBefore(el("path", { "class": "edge", d: d }), svg.firstChild);
  }

  // ---- the selected node ----

  function findNode(key) {
    if (!state) return null;
    for (var i = 0; i < state.nodes.length; i++) if (state.nodes[i].key === key) return state.nodes[i];
    return null;
  }

  function showMeta(node) {
    var bits = [node.status];
    if (node.seconds !== null) bits.push(formatSeconds(node.seconds));
    if (node.exit_status !== null && node.exit_status !== undefined) bits.push("exit " + node.exit_status);
    if (node.bytes_sent) bits.push(node.bytes_sent + " bytes sent");
    if (node.error) bits.push(node.error);
    byId("node-meta").textContent = bits.join(" · ");
  }

  function select(key) {
    var node = findNode(key);
    if (!node) return;
    selected = key;
    byId("node-title").textContent = title(node);
    var link = byId("download-node");
    link.href = url("/nodes/" + node.id + "/log.txt");
    link.hidden = false;
    showMeta(node);
    var marks = document.querySelectorAll(".node.selected");
    for (var i = 0; i < marks.length; i++) marks[i].classList.remove("selected");
    var mine = document.querySelector('.node[data-node="' + CSS.escape(key) + '"]');
    if (mine) mine.classList.add("selected");
    loadOutput(node);
  }

  function loadOutput(node) {
    var key = node.key;
    var pre = byId("node-output");
    loading = key;
    fetch(url("/nodes/" + node.id + "/output"), { credentials: "same-origin" })
      .then(function (r) { if (!r.ok) throw new Error(r.status); return r.json(); })
      .then(function (out) {
        if (selected !== key) return;
        var live = findNode(key);
        var text = out.output || "";
        if (live && live.status === "running" && lines[key] && lines[key].length)
          text += (text ? "\n" : "") + lines[key].join("\n") + "\n";
        pre.textContent = text;
        pre.dataset.node = key;
        pre.dataset.status = out.status;
        pre.scrollTop = pre.scrollHeight;
      })
      .catch(function () { if (selected === key) pre.textContent = "(the output could not be loaded)"; })
      .then(function () { if (loading === key) loading = null; });
  }

  function appendLine(data) {
    var kept = lines[data.key] = lines[data.key] || [];
    kept.push(data.line);
    if (kept.length > MAX_LINES) kept.shift();
    if (data.key !== selected || loading === data.key) return;
    var pre = byId("node-output");
    var atEnd = pre.scrollTop + pre.clientHeight >= pre.scrollHeight - 8;
    pre.appendChild(document.createTextNode(data.line + "\n"));
    if (atEnd) pre.scrollTop = pre.scrollHeight;
  }

  // ---- updates ----

  function render() {
    if (!state) return;
    renderFacts(state);
    renderPipeline(state);
  }

  function apply(next) {
    var before = selected ? findNode(selected) : null;
    state = next;
    render();
    state.nodes.forEach(function (n) { if (n.status !== "running" && n.status !== "pending") delete lines[n.key]; });
    if (!selected) return;
    var now = findNode(selected);
    if (!now) return;
    showMeta(now);
    if (before && before.status !== now.status && now.status !== "running") loadOutput(now);
    else if (before && before.status !== now.status) byId("node-output").dataset.status = now.status;
  }

  function connect() {
    var status = byId("connection");
    var setConnection = function (name, text) { status.dataset.state = name; status.textContent = text; };
    if (!window.EventSource) { setConnection("closed", "live updates need a newer browser"); return; }
    var source = new EventSource(url("/events"));
    source.addEventListener("open", function () { setConnection("live", "live"); });
    source.addEventListener("state", function (e) { apply(JSON.parse(e.data)); });
    source.addEventListener("log", function (e) { appendLine(JSON.parse(e.data)); });
    source.addEventListener("error", function () {
      if (source.readyState === EventSource.CLOSED) setConnection("closed", "disconnected: reload, or ask Hoist for a fresh link");
      else setConnection("connecting", "reconnecting…");
    });
  }

  function tick() {
    if (!state) return;
    var running = state.status === "running" || state.nodes.some(function (n) { return n.status === "running"; });
    if (!running) return;
    var texts = document.querySelectorAll('.node[data-status="running"] .duration');
    for (var i = 0; i < texts.length; i++) {
      var node = findNode(texts[i].parentNode.getAttribute("data-node"));
      if (node) texts[i].textContent = formatSeconds(elapsed(node));
    }
    var d = document.querySelector('#task-facts dd[data-fact="duration"]');
    if (d) d.textContent = formatSeconds(elapsed(state));
  }

  byId("download-task").href = url("/log.txt");
  connect();
  setInterval(tick, 1000);
})();
