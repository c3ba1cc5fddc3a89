/* whoson agents' console. Readable source, no build step.
 * Everything that comes from event data is put into the page with textContent
 * (never innerHTML), so a visitor's url, title or message cannot inject markup.
 * Rows arrive over server-sent events (/api/stream): a snapshot, then upserts
 * and removes that update one row in place; /api/poll is the fallback. */
(function () {
  "use strict";
  var meta = function (n) { var m = document.querySelector('meta[name="whoson-' + n + '"]'); return m ? m.content : ""; };
  var PREFIX = meta("prefix"), AGENT = meta("agent"), CSRF = meta("csrf");
  var STATUS_LABEL = { active: "active", idle: "idle", in_chat: "in chat", waiting: "waiting", invited: "invited", gone: "left" };
  var SIGNAL_LABEL = { lingering: "lingering", revisiting: "revisiting", stuck_on_checkout: "stuck on checkout",
    cart_at_risk: "cart at risk", waiting: "waiting" };

  // ---------- tiny DOM helpers (text only) ----------
  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined && text !== null) e.textContent = String(text);
    return e;
  }
  function add(parent) { for (var i = 1; i < arguments.length; i++) if (arguments[i]) parent.appendChild(arguments[i]); return parent; }
  function clear(e) { while (e.firstChild) e.removeChild(e.firstChild); return e; }
  function dur(s) {
    if (s === null || s === undefined || isNaN(s)) return "–";
    s = Math.max(0, Math.floor(s));
    var h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), r = s % 60;
    if (h) return h + "h" + (m < 10 ? "0" : "") + m + "m";
    if (m) return m + "m" + (r < 10 ? "0" : "") + r + "s";
    return r + "s";
  }
  function plural(n, word) { return n + " " + word + (n === 1 ? "" : "s"); }
  function money(v) { var n = Number(v); return n ? n.toFixed(2) : "–"; }
  function host(url) { if (!url) return "direct"; try { return new URL(url).host || url; } catch (e) { return url; } }
  function shortId(v) { return v.length > 10 ? v.slice(0, 8) + "…" : v; }
  function clock(ts) { var d = new Date(ts); return isNaN(d) ? "" : d.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" }); }
  function day(ts) { var d = new Date(ts); return isNaN(d) ? "" : d.toLocaleDateString([], { month: "short", day: "numeric" }) + " " + clock(ts); }

  function api(method, path, body) {
    var opts = { method: method, credentials: "same-origin", headers: {} };
    if (body !== undefined) { opts.headers["Content-Type"] = "application/json"; opts.body = JSON.stringify(body); }
    if (method !== "GET") opts.headers["X-Whoson-CSRF"] = CSRF;
    return fetch(PREFIX + path, opts).then(function (r) {
      return r.json().catch(function () { return {}; }).then(function (data) {
        if (r.status === 401) { location.href = PREFIX + "/login"; }
        if (!r.ok) { var e = new Error(data.error || ("HTTP " + r.status)); e.status = r.status; throw e; }
        return data;
      });
    });
  }

  // ---------- state ----------
  var entries = {};      // visitor -> {entry, tr, received}
  var selected = null;   // visitor id in the side panel
  var queue = null, queueReceived = 0;
  var sortKey = "last_activity";
  var alertsOn = false, knownWaiting = null, stuckSeen = {};
  var lastId = null, source = null, pollTimer = null, failures = 0;
  var panelChat = null;  // {visitor, request, es}
  var seenLines = {};    // visitor -> how many of their chat lines this agent has seen

  // ---------- layout ----------
  var app = document.getElementById("app");
  var bar = add(el("header", "bar"), el("span", "logo", "whoson"));
  var counts = add(el("div", "counts"));
  function countBox(cls, label) { var b = el("div", "count " + cls), n = el("b", null, "0"); add(b, n, el("span", null, label)); counts.appendChild(b); return { box: b, n: n }; }
  var cOnline = countBox("online", "online"), cChat = countBox("chat", "in chat"), cWait = countBox("waiting", "waiting");
  var agentsLine = el("div", "agents");
  var conn = el("span", "conn", "connecting…");
  var alertBtn = el("button", null, "Alerts off");
  alertBtn.title = "Sound and desktop notification for a new waiting request or a visitor stuck on checkout";
  var meBtn = el("button", null, AGENT + " · sign out");
  add(bar, counts, el("div", "spacer"), agentsLine, conn, alertBtn, meBtn);

  var filters = el("div", "filters");
  function input(cls, ph, type) { var i = el("input", cls); i.placeholder = ph; i.type = type || "text"; i.setAttribute("aria-label", ph); return i; }
  function select(name, options) {
    var l = el("label", null, name), s = el("select");
    options.forEach(function (o) { var op = el("option", null, o[1]); op.value = o[0]; s.appendChild(op); });
    s.setAttribute("aria-label", name); add(l, s); return { label: l, select: s };
  }
  var fQ = input("q", "Search visitor, name, page…", "search");
  var fUrl = input("url", "url pattern, e.g. */cart*");
  var fCountry = input("country", "country");
  var fSignal = select("signal", [["", "any"], ["lingering", "lingering"], ["revisiting", "revisiting"],
    ["stuck_on_checkout", "stuck on checkout"], ["cart_at_risk", "cart at risk"], ["waiting", "waiting"]]);
  var fChat = select("chat", [["", "any"], ["true", "in chat / invited"], ["false", "not in chat"]]);
  var fRet = select("visitors", [["", "all"], ["false", "new"], ["true", "returning"]]);
  var fSort = select("sort", [["last_activity", "last activity"], ["on_page", "time on page"], ["on_site", "time on site"], ["cart_value", "cart value"]]);
  var shown = el("span", "shown");
  add(filters, fQ, fUrl, fCountry, fSignal.label, fChat.label, fRet.label, fSort.label, shown);

  var main = el("div", "main");
  var wrap = el("div", "table-wrap");
  var table = el("table", "rows");
  var thead = el("thead"), headRow = el("tr");
  var MAX_SHOWN = 500, NCOLS = 9, NUM = { 3: 1, 4: 1, 6: 1 };
  ["Status", "Visitor", "Page", "On page", "On site", "Trail", "Cart", "Signals", "Chat"].forEach(function (h, i) {
    headRow.appendChild(el("th", NUM[i] ? "num" : null, h));
  });
  add(table, add(thead, headRow));
  var tbody = el("tbody");
  table.appendChild(tbody);
  var empty = el("div", "empty", "Nobody online right now. Visitors appear here the moment they open a page.");
  add(wrap, table, empty);
  var side = el("aside", "side");
  add(main, wrap, side);
  add(app, bar, filters, main);

  var queueCard = card("Waiting queue"), agentsCard = card("Agents online"), pagesCard = card("Top pages now");
  var panel = el("section", "card panel"); panel.hidden = true; panel.id = "visitor-panel";
  add(side, panel, queueCard.box, pagesCard.box, agentsCard.box);
  function card(title) { var b = el("section", "card"), h = el("h2"), t = el("span", null, title), x = el("span"); add(h, t, x); var u = el("ul"); add(b, h, u); return { box: b, list: u, extra: x }; }

  // ---------- rows ----------
  function sortValue(entry) {
    var row = entry.row;
    if (sortKey === "on_page") return tick(row.on_page_seconds, entry);
    if (sortKey === "on_site") return tick(row.on_site_seconds, entry);
    if (sortKey === "cart_value") return Number(row.cart_value) || 0;
    return Date.parse(entry.active) || 0;
  }
  function tick(base, entry) {
    if (base === null || base === undefined) return null;
    if (entry.status === "gone") return base;
    var rec = entries[entry.visitor];
    return base + (rec ? (Date.now() - rec.received) / 1000 : 0);
  }
  function before(a, b) { // true when a sorts above b (descending, ties by id)
    var va = sortValue(a), vb = sortValue(b);
    if (va !== vb) return va > vb;
    return a.visitor > b.visitor;
  }
  function resort() { // one sort, then move only the rows out of place: O(n log n)
    var recs = Object.keys(entries).map(function (v) { return entries[v]; });
    recs.sort(function (a, b) { return before(a.entry, b.entry) ? -1 : 1; });
    var node = tbody.firstChild;
    recs.forEach(function (rec) {
      if (rec.tr === node) node = node.nextSibling;
      else tbody.insertBefore(rec.tr, node);
    });
  }
  function place(rec) {
    var tr = rec.tr, next = null, node;
    // Rows are few hundred at most: walk to the first row this one sorts above.
    for (node = tbody.firstChild; node; node = node.nextSibling) {
      if (node === tr) continue;
      var other = entries[node.dataset.visitor];
      if (other && before(rec.entry, other.entry)) { next = node; break; }
    }
    if (tr.parentNode !== tbody || tr.nextSibling !== next) {
      var prev = next ? next.previousSibling : tbody.lastChild;
      if (prev !== tr) tbody.insertBefore(tr, next);
    }
  }
  function cell(tr, i) { return tr.children[i]; }
  function makeRow(visitor) {
    var tr = el("tr");
    tr.dataset.visitor = visitor;
    for (var i = 0; i < NCOLS; i++) tr.appendChild(el("td", NUM[i] ? "num" : null));
    cell(tr, 0).className = "status-cell";
    cell(tr, 4).appendChild(el("span", "site-time")); cell(tr, 4).appendChild(el("span", "sub pages"));
    tr.tabIndex = 0;
    tr.addEventListener("click", function (ev) { if (ev.target.tagName !== "BUTTON") openPanel(visitor); });
    tr.addEventListener("keydown", function (ev) { if (ev.key === "Enter" && ev.target === tr) openPanel(visitor); });
    var btn = el("button", "btn invite", "Invite");
    btn.addEventListener("click", function () { openPanel(visitor, true); });
    var state = el("span", "chat-state");
    add(cell(tr, 8), btn, state);
    cell(tr, 8).className = "chat-cell";
    return tr;
  }
  function fillRow(rec) {
    var e = rec.entry, row = e.row, tr = rec.tr, c;
    tr.className = "st-" + e.status + (e.status === "gone" ? " gone" : "") + (selected === e.visitor ? " selected" : "");
    c = clear(cell(tr, 0)); add(c, el("span", "dot"), el("span", "status-label", STATUS_LABEL[e.status] || e.status));
    c = clear(cell(tr, 1));
    var who = el("span", "who", row.name || shortId(row.visitor)); who.title = row.visitor;
    add(c, who, row.visits > 1 ? el("span", "badge ret", "visit " + row.visits) : el("span", "badge new", "new"));
    var origin = el("span", "sub", [row.country, row.device, host(row.referrer)].filter(Boolean).join(" · "));
    origin.title = (row.customer ? "customer " + row.customer + " · " : "") + "referrer: " + (row.referrer || "none");
    c.appendChild(origin);
    c = clear(cell(tr, 2));
    var t = el("span", "page-title", row.title || row.url || "–"); t.title = row.url || "";
    add(c, t, el("span", "sub", (row.title ? row.url : "") + (row.page_visits > 1 ? "  · opened " + row.page_visits + "×" : "")));
    cell(tr, 4).lastChild.textContent = plural(row.pages_viewed, "page");
    c = clear(cell(tr, 5));
    var steps = row.trail || [], from = Math.max(0, steps.length - 4), tl = el("div", "trail");
    tl.title = steps.map(function (s) { return s.url + " (" + dur(s.seconds) + ")"; }).join("  ›  ");
    if (from > 0) tl.appendChild(el("span", null, "… › "));
    for (var i = from; i < steps.length; i++) {
      var last = i === steps.length - 1;
      tl.appendChild(el(last ? "b" : "span", null, steps[i].url));
      tl.appendChild(el("span", last ? "trail-now" : null, " " + dur(steps[i].seconds) + (last ? "" : " › ")));
    }
    c.appendChild(tl);
    cell(tr, 6).textContent = money(row.cart_value);
    c = clear(cell(tr, 7)); var chips = el("div", "chips");
    (row.signals || []).forEach(function (s) { var ch = el("span", "chip " + s.name, SIGNAL_LABEL[s.name] || s.name); ch.title = s.reason; chips.appendChild(ch); });
    c.appendChild(chips);
    if (row.signals && row.signals.length) c.appendChild(el("span", "reason", row.signals[0].reason));
    // The chat column: who holds the visitor, or the Invite button when nobody does.
    var st = row.chat.state, btn = cell(tr, 8).firstChild, state = clear(cell(tr, 8).lastChild);
    var waiting = e.status === "waiting" && !row.chat.agent;
    btn.hidden = !(waiting || (st === "none" && e.status !== "gone"));
    btn.textContent = waiting ? "Answer" : "Invite";
    btn.classList.toggle("primary", waiting);
    btn.title = waiting ? "Open the waiting request and answer it" : "Invite this visitor to chat";
    if (st === "none") state.textContent = e.status === "gone" ? "–" : "";
    else if (!waiting) add(state, el("span", null, st === "in_conversation" ? "in chat" : (e.status === "waiting" ? "waiting" : "invited")),
             row.chat.agent ? el("span", "holder", " · " + row.chat.agent) : null,
             rec.unread ? el("div", null, "") : null);
    if (rec.unread) state.lastChild.appendChild(el("span", "unread", rec.unread + " new"));
    tickRow(rec);
  }
  function tickRow(rec) {
    var e = rec.entry, row = e.row, tr = rec.tr;
    cell(tr, 3).textContent = dur(tick(row.on_page_seconds, e));
    cell(tr, 4).firstChild.textContent = dur(tick(row.on_site_seconds, e));
    var now = tr.querySelector(".trail-now");
    if (now && row.trail && row.trail.length) now.textContent = " " + dur(tick(row.trail[row.trail.length - 1].seconds, e));
    var first = (row.signals || [])[0], why = tr.querySelector(".reason"); // the wait counts up, as in the queue card
    if (why && first && first.name === "waiting" && first.wait_seconds != null) why.textContent = "waiting " + dur(tick(first.wait_seconds, e)) + " for an agent";
  }
  function upsert(entry, flash, later, received) {
    var rec = entries[entry.visitor], prev = rec ? rec.entry : null;
    if (!rec) { rec = entries[entry.visitor] = { tr: makeRow(entry.visitor) }; }
    rec.entry = entry; rec.received = received || Date.now();
    // Unread: lines the visitor wrote since this agent last had their chat open.
    var said = entry.visitor_messages || 0, v = entry.visitor;
    if (seenLines[v] === undefined || !flash || (panelChat && panelChat.visitor === v)) seenLines[v] = said;
    else if (said > (prev ? prev.visitor_messages || 0 : 0) && entry.row.chat.agent === AGENT) {
      alert_("New message", (entry.row.name || shortId(v)) + " wrote to you");
    }
    rec.unread = Math.max(0, said - seenLines[v]);
    fillRow(rec);
    if (later) { if (!rec.tr.parentNode) tbody.appendChild(rec.tr); } else place(rec);
    if (flash && prev) { rec.tr.classList.add("flash"); setTimeout(function () { rec.tr.classList.remove("flash"); }, 700); }
    var stuck = (entry.row.signals || []).some(function (s) { return s.name === "stuck_on_checkout"; });
    if (stuck && !stuckSeen[entry.visitor] && flash) alert_("Stuck on checkout", (entry.row.name || shortId(entry.visitor)) + " on " + (entry.row.url || ""));
    stuckSeen[entry.visitor] = stuck;
    if (selected === entry.visitor) {
      renderPanelRow(entry);
      if (prev && prev.row.chat.state !== entry.row.chat.state) refreshHistory(entry.visitor);
    }
  }
  function remove(visitor) {
    var rec = entries[visitor];
    if (!rec) return;
    if (rec.tr.parentNode) rec.tr.parentNode.removeChild(rec.tr);
    delete entries[visitor];
  }
  function updateShown() {
    var n = Object.keys(entries).length;
    empty.hidden = n > 0; table.hidden = n === 0;
    // The first MAX_SHOWN rows are displayed (CSS); the others wait for a narrower filter.
    shown.textContent = n > MAX_SHOWN ? MAX_SHOWN + " of " + n + " shown · refine the filters" : n + " shown";
  }

  // ---------- queue, agents, top pages ----------
  function renderQueue(q, received) {
    queue = q; queueReceived = received || Date.now();
    cOnline.n.textContent = q.online; cChat.n.textContent = q.in_chat; cWait.n.textContent = q.waiting.length;
    cWait.box.classList.toggle("hot", q.waiting.length > 0);
    agentsLine.textContent = "";
    add(agentsLine, el("span", null, "agents "), el("b", null, q.agents.length ? q.agents.join(", ") : "none online"));
    var ids = q.waiting.map(function (w) { return w.request; });
    if (knownWaiting) ids.forEach(function (id, i) {
      if (knownWaiting.indexOf(id) < 0) alert_("New chat request", "Visitor " + shortId(q.waiting[i].visitor) + " is waiting");
    });
    knownWaiting = ids;
    clear(queueCard.list);
    queueCard.extra.textContent = q.expected_wait === null || q.expected_wait === undefined ? "" : "≈ " + dur(q.expected_wait) + " wait";
    if (!q.waiting.length) queueCard.list.appendChild(el("li", "none", "Nobody is waiting."));
    q.waiting.forEach(function (w) {
      var li = el("li"), r = el("span", "r"); r.dataset.base = w.wait_seconds;
      add(li, el("span", "l", shortId(w.visitor) + " · " + (w.url || "")), r);
      li.addEventListener("click", function () { openPanel(w.visitor); });
      queueCard.list.appendChild(li);
    });
    queueCard.box.classList.add("queue");
    clear(agentsCard.list);
    if (!q.agents.length) agentsCard.list.appendChild(el("li", "none", "No agent online."));
    q.agents.forEach(function (a) { agentsCard.list.appendChild(add(el("li"), el("span", "l", a), el("span", "r", a === AGENT ? "you" : "online"))); });
    clear(pagesCard.list);
    if (!q.top_pages.length) pagesCard.list.appendChild(el("li", "none", "No pages open."));
    q.top_pages.forEach(function (p) {
      var l = el("span", "l", p.title || p.url); l.title = p.url;
      pagesCard.list.appendChild(add(el("li"), l, el("span", "r", p.visitors + (p.visitors === 1 ? " visitor" : " visitors"))));
    });
    tickQueue();
  }
  function tickQueue() {
    var spans = queueCard.list.querySelectorAll(".r");
    var extra = (Date.now() - queueReceived) / 1000;
    for (var i = 0; i < spans.length; i++) spans[i].textContent = dur(Number(spans[i].dataset.base) + extra);
  }

  // ---------- notifications (opt-in) ----------
  var audio = null;
  function beep() {
    try {
      audio = audio || new (window.AudioContext || window.webkitAudioContext)();
      var o = audio.createOscillator(), g = audio.createGain();
      o.frequency.value = 880; g.gain.value = 0.08; o.connect(g); g.connect(audio.destination);
      o.start(); o.stop(audio.currentTime + 0.18);
    } catch (e) { /* no audio */ }
  }
  function alert_(title, body) {
    if (!alertsOn) return;
    beep();
    if (window.Notification && Notification.permission === "granted") {
      try { new Notification("whoson · " + title, { body: body, tag: "whoson-" + title }); } catch (e) { /* ignore */ }
    }
  }
  alertBtn.addEventListener("click", function () {
    alertsOn = !alertsOn;
    alertBtn.textContent = alertsOn ? "Alerts on" : "Alerts off";
    alertBtn.classList.toggle("on", alertsOn);
    if (alertsOn) { beep(); if (window.Notification && Notification.permission === "default") Notification.requestPermission(); }
    try { localStorage.setItem("whoson_alerts", alertsOn ? "1" : ""); } catch (e) { /* ignore */ }
  });
  meBtn.addEventListener("click", function () { api("POST", "/logout", {}).then(function () { location.href = PREFIX + "/login"; }); });

  // ---------- the stream ----------
  function query() {
    var p = new URLSearchParams();
    if (fQ.value.trim()) p.set("q", fQ.value.trim());
    if (fUrl.value.trim()) p.set("url", fUrl.value.trim());
    if (fCountry.value.trim()) p.set("country", fCountry.value.trim());
    if (fSignal.select.value) p.set("signal", fSignal.select.value);
    if (fChat.select.value) p.set("in_chat", fChat.select.value);
    if (fRet.select.value) p.set("returning", fRet.select.value);
    return p;
  }
  function onSnapshot(data) {
    var keep = {};
    data.rows.forEach(function (entry) { keep[entry.visitor] = true; });
    Object.keys(entries).forEach(function (v) { if (!keep[v]) remove(v); });
    var received = data.received || {};  // set when another tab relays its state
    data.rows.forEach(function (entry) { upsert(entry, false, true, received[entry.visitor]); });
    resort();
    if (data.queue && data.queue.waiting) renderQueue(data.queue, received[""]);
    updateShown();
  }
  function handle(name, data, id) {
    if (id !== null && id !== undefined) lastId = id;
    if (name === "snapshot") onSnapshot(data);
    else if (name === "upsert") { upsert(data, true); updateShown(); }
    else if (name === "remove") { remove(data.visitor); updateShown(); }
    else if (name === "queue") renderQueue(data);
  }
  function status(text, down) { conn.textContent = text; conn.classList.toggle("down", !!down); }
  // One stream per agent and filter across tabs: the tab holding a Web Lock named
  // after the filters streams and relays every event on a BroadcastChannel; the
  // other tabs with the same filters listen. When it closes, the next tab takes the
  // lock and resumes from the last id (browsers allow six connections per host).
  var channel = null, leading = false, releaseLock = null, shareGen = 0;
  function unshare() {
    shareGen++;
    if (releaseLock) { releaseLock(); releaseLock = null; }
    if (channel) { channel.close(); channel = null; }
    leading = false;
  }
  function relayState() {
    var rows = [], received = { "": queueReceived };
    Array.prototype.forEach.call(tbody.children, function (tr) {
      var rec = entries[tr.dataset.visitor];
      if (rec) { rows.push(rec.entry); received[rec.entry.visitor] = rec.received; }
    });
    return { rows: rows, total: rows.length, queue: queue || {}, received: received };
  }
  function connect() {
    if (source) { source.close(); source = null; }
    if (pollTimer) { clearTimeout(pollTimer); pollTimer = null; }
    unshare();
    var p = query();
    if (location.search.indexOf("poll=1") >= 0 || !window.EventSource || failures >= 3) { lastId = null; poll(); return; }
    if (!window.BroadcastChannel || !navigator.locks) { stream(p, null); return; }
    var key = "whoson-stream:" + PREFIX + ":" + AGENT + ":" + p.toString(), gen = shareGen;
    var ch = channel = new BroadcastChannel(key);
    ch.onmessage = function (m) {
      var d = m.data || {};
      if (gen !== shareGen) return;
      if (d.type === "event" && !leading) { status("live (shared)"); handle(d.name, d.data, d.id); }
      else if (d.type === "hello" && leading) ch.postMessage({ type: "event", name: "snapshot", data: relayState(), id: lastId });
    };
    ch.postMessage({ type: "hello" });
    navigator.locks.request(key, function () {
      if (gen !== shareGen) return null;
      leading = true;
      stream(p, function (name, data, id) { if (gen === shareGen) ch.postMessage({ type: "event", name: name, data: data, id: id }); });
      return new Promise(function (resolve) { releaseLock = resolve; });
    });
  }
  function stream(p, relay) {
    if (lastId !== null) p.set("last_event_id", lastId);
    source = new EventSource(PREFIX + "/api/stream?" + p.toString());
    ["snapshot", "upsert", "remove", "queue"].forEach(function (name) {
      source.addEventListener(name, function (ev) {
        var data = JSON.parse(ev.data);
        failures = 0; status("live"); handle(name, data, ev.lastEventId);
        if (relay) relay(name, data, ev.lastEventId);
      });
    });
    source.onopen = function () { status("live"); };
    source.onerror = function () {
      status("reconnecting…", true);
      if (source && source.readyState === EventSource.CLOSED) { failures++; setTimeout(connect, 2000); }
    };
  }
  function poll() {
    var p = query();
    if (lastId !== null) p.set("after", lastId);
    api("GET", "/api/poll?" + p.toString()).then(function (d) {
      status("live (polling)");
      if (d.snapshot) handle("snapshot", d.snapshot, d.id);
      else d.events.forEach(function (e) { handle(e.event, e.data, e.id); });
      lastId = d.id;
    }).catch(function () { status("offline, retrying…", true); }).then(function () { pollTimer = setTimeout(poll, 2000); });
  }
  var debounce = null;
  function refilter() { clearTimeout(debounce); debounce = setTimeout(function () { lastId = null; connect(); }, 250); }
  window.addEventListener("pagehide", unshare);
  [fQ, fUrl, fCountry].forEach(function (i) { i.addEventListener("input", refilter); });
  [fSignal.select, fChat.select, fRet.select].forEach(function (s) { s.addEventListener("change", refilter); });
  fSort.select.addEventListener("change", function () {
    sortKey = fSort.select.value;
    resort();
  });

  // ---------- visitor panel ----------
  var pInfo = null;
  function openPanel(visitor, focusInvite) {
    selected = visitor;
    Object.keys(entries).forEach(function (v) { entries[v].tr.classList.toggle("selected", v === visitor); });
    panel.hidden = false; clear(panel);
    var head = el("header"), title = el("h3", null, shortId(visitor)), x = el("button", "close", "×");
    x.title = "Close"; x.setAttribute("aria-label", "Close visitor panel");
    x.addEventListener("click", closePanel);
    add(panel, add(head, title, x));
    pInfo = { title: title, kv: el("dl", "kv"), actions: el("div"), history: el("div"), chat: el("div") };
    add(panel, pInfo.kv, pInfo.actions, pInfo.chat, pInfo.history);
    if (entries[visitor]) renderPanelRow(entries[visitor].entry);
    api("GET", "/api/visitors/" + encodeURIComponent(visitor)).then(function (d) {
      if (selected !== visitor) return;
      renderHistory(d);
      if (d.chat) openChat(visitor, d.chat.request, d.chat);
      if (focusInvite) { var t = panel.querySelector("textarea"); if (t) t.focus(); }
    }).catch(function (e) { pInfo.history.appendChild(el("p", "notice err", e.message)); });
  }
  function refreshHistory(visitor) {
    api("GET", "/api/visitors/" + encodeURIComponent(visitor)).then(function (d) { if (selected === visitor) renderHistory(d); });
  }
  function closePanel() {
    selected = null; panel.hidden = true;
    if (panelChat && panelChat.es) panelChat.es.close();
    panelChat = null;
    Object.keys(entries).forEach(function (v) { entries[v].tr.classList.remove("selected"); });
  }
  function kv(dl, k, v) { add(dl, el("dt", null, k), el("dd", null, v)); }
  function renderPanelRow(entry) {
    if (!pInfo) return;
    var row = entry.row;
    pInfo.title.textContent = row.name || shortId(row.visitor);
    clear(pInfo.kv);
    kv(pInfo.kv, "status", STATUS_LABEL[entry.status] || entry.status);
    kv(pInfo.kv, "visitor", row.visitor + (row.customer ? " · customer " + row.customer : ""));
    kv(pInfo.kv, "page", (row.title ? row.title + " — " : "") + (row.url || "–"));
    kv(pInfo.kv, "on page", dur(tick(row.on_page_seconds, entry)) + " · on site " + dur(tick(row.on_site_seconds, entry)));
    kv(pInfo.kv, "visit", "#" + row.visits + " · " + plural(row.pages_viewed, "page"));
    kv(pInfo.kv, "trail", (row.trail || []).map(function (s) { return s.url + " " + dur(s.seconds); }).join(" › "));
    kv(pInfo.kv, "from", row.referrer || "direct");
    kv(pInfo.kv, "where", [row.country, row.device].filter(Boolean).join(" · ") || "–");
    kv(pInfo.kv, "cart", (Number(row.cart_value) ? money(row.cart_value) : "empty") + " · " + (row.orders ? row.orders + " orders, " + money(row.lifetime_value) + " in all" : "no orders yet"));
    (row.signals || []).forEach(function (s) { kv(pInfo.kv, SIGNAL_LABEL[s.name] || s.name, s.reason); });
    renderActions(entry);
  }
  function renderActions(entry) {
    clear(pInfo.actions);
    var chat = entry.row.chat;
    if (chat.state !== "none" || entry.status === "gone") {
      if (chat.state !== "none" && (!panelChat || panelChat.visitor !== entry.visitor)) {
        pInfo.actions.appendChild(el("p", "notice", (chat.state === "in_conversation" ? "In chat with " : "Invited by ") + (chat.agent || "nobody yet — waiting for an agent")));
      }
      return;
    }
    var form = el("form", "invite-form"), ta = el("textarea");
    ta.value = "Hi! I'm " + AGENT + ". Can I help you with anything?";
    ta.setAttribute("aria-label", "Invitation message"); ta.maxLength = 10000;
    var go = el("button", "btn primary", "Invite to chat"); go.type = "submit";
    var note = el("div");
    add(form, ta, add(el("div", "row-actions"), go), note);
    form.addEventListener("submit", function (ev) {
      ev.preventDefault(); go.disabled = true;
      api("POST", "/api/visitors/" + encodeURIComponent(entry.visitor) + "/invite", { message: ta.value, channel: "text" })
        .then(function (d) { clear(pInfo.actions); openChat(entry.visitor, d.request, null); })
        .catch(function (e) { go.disabled = false; clear(note).appendChild(el("p", "notice err", e.message)); });
    });
    pInfo.actions.appendChild(form);
  }
  function renderHistory(d) {
    clear(pInfo.history);
    var c = el("section", "history");
    add(c, el("h2", "card-h", "Visits"));
    var ul = el("ul");
    d.sessions.slice().reverse().slice(0, 8).forEach(function (s) {
      var li = el("li");
      add(li, el("span", null, "#" + s.number + " · " + day(s.started) + " · " + plural(s.pages_viewed, "page") + " · " + dur(s.seconds)),
          el("span", "sub", (s.landing || "") + (s.referrer ? " from " + host(s.referrer) : "") + (s.orders ? " · " + s.orders + " orders" : "")));
      ul.appendChild(li);
    });
    c.appendChild(ul);
    add(c, el("h2", "card-h", "Conversations"));
    var cl = el("ul");
    if (!d.conversations.length) cl.appendChild(el("li", "none", "None yet."));
    d.conversations.slice().reverse().slice(0, 8).forEach(function (cv) {
      var li = el("li");
      add(li, el("span", null, day(cv.started) + " · " + (cv.initiator || "?") + (cv.agent ? " · " + cv.agent : "") +
            (cv.rating !== null && cv.rating !== undefined ? " · rated " + cv.rating : "")),
          el("span", "sub", cv.ended ? "ended (" + (cv.end_reason || "?") + ")" : (cv.conversation ? "open conversation" : "open request")));
      if (cv.feedback) li.appendChild(el("span", "sub", "“" + cv.feedback + "”"));
      cl.appendChild(li);
    });
    c.appendChild(cl);
    add(c, el("h2", "card-h", "Orders"));
    var ol = el("ul");
    if (!d.orders.length) ol.appendChild(el("li", "none", "None."));
    d.orders.slice().reverse().slice(0, 8).forEach(function (o) {
      ol.appendChild(add(el("li"), el("span", "l", o.order + " · " + day(o.ts)), el("span", "r", money(o.value) + " " + (o.currency || ""))));
    });
    c.appendChild(ol);
    pInfo.history.appendChild(c);
  }

  // ---------- chat in the panel ----------
  function openChat(visitor, request, state) {
    if (panelChat && panelChat.es) panelChat.es.close();
    var box = clear(pInfo.chat);
    var h = el("h2", null, "Chat"), list = el("div", "transcript"), form = el("form", "chat-form"), ta = el("textarea");
    ta.placeholder = "Write a message… (Enter sends, Shift+Enter for a new line)"; ta.setAttribute("aria-label", "Message to the visitor");
    var send = el("button", "btn primary", "Send"); send.type = "submit";
    var end = el("button", "btn", "End chat"); end.type = "button";
    var note = el("div");
    add(form, ta, add(el("div", "row-actions"), end, send), note);
    add(box, h, list, form);
    var chat = panelChat = { visitor: visitor, request: request, es: null, list: list, ids: {} };
    if (entries[visitor]) {
      seenLines[visitor] = entries[visitor].entry.visitor_messages || 0;
      entries[visitor].unread = 0; fillRow(entries[visitor]);
    }
    function show(m) {
      if (chat.ids[m.id]) return; chat.ids[m.id] = true;
      var hidden = m.text === null || m.text === undefined;
      var b = el("div", "msg " + m.sender + (hidden ? " hidden-text" : ""), hidden ? "(" + m.chars + " characters, text not stored)" : m.text);
      b.appendChild(el("span", "meta", (m.sender === "agent" ? (m.agent || "agent") : "visitor") + " · " + clock(m.ts)));
      list.appendChild(b); list.scrollTop = list.scrollHeight;
    }
    function ended(reason) {
      if (form.hidden) return;
      form.hidden = true;
      box.appendChild(el("p", "notice", "Chat ended (" + (reason || "closed") + "). The visitor was offered the survey."));
    }
    if (state) { state.messages.forEach(show); if (state.ended) ended(state.end_reason); }
    var es = chat.es = new EventSource(PREFIX + "/chat/stream?visitor=" + encodeURIComponent(visitor) + "&request=" + encodeURIComponent(request));
    es.addEventListener("message", function (ev) { show(JSON.parse(ev.data)); });
    var over = false;
    es.addEventListener("end", function (ev) { over = true; ended(JSON.parse(ev.data).end_reason); es.close(); });
    function pollChat() { // where the host refuses streams (WSGI)
      if (over || panelChat !== chat) return;
      api("GET", "/api/chats/" + encodeURIComponent(request) + "?visitor=" + encodeURIComponent(visitor)).then(function (d) {
        d.messages.forEach(show);
        if (d.ended) { over = true; ended(d.end_reason); } else setTimeout(pollChat, 2000);
      }).catch(function () { setTimeout(pollChat, 5000); });
    }
    es.onerror = function () { if (es.readyState === 2 && !over) pollChat(); };
    function submit() {
      var text = ta.value.trim(); if (!text) return;
      send.disabled = true;
      api("POST", "/api/chats/" + encodeURIComponent(request) + "/messages", { text: text, visitor: visitor })
        .then(function (d) { ta.value = ""; show({ id: d.id, sender: "agent", agent: AGENT, text: text, ts: new Date().toISOString() }); clear(note); })
        .catch(function (e) { clear(note).appendChild(el("p", "notice err", e.message)); })
        .then(function () { send.disabled = false; ta.focus(); });
    }
    form.addEventListener("submit", function (ev) { ev.preventDefault(); submit(); });
    ta.addEventListener("keydown", function (ev) { if (ev.key === "Enter" && !ev.shiftKey) { ev.preventDefault(); submit(); } });
    end.addEventListener("click", function () {
      api("POST", "/api/chats/" + encodeURIComponent(request) + "/end", { visitor: visitor })
        .catch(function (e) { clear(note).appendChild(el("p", "notice err", e.message)); });
    });
  }

  // ---------- ticking ----------
  setInterval(function () {
    Object.keys(entries).forEach(function (v) { tickRow(entries[v]); });
    if (queue) tickQueue();
    if (sortKey === "on_page" || sortKey === "on_site") resort();
  }, 1000);

  try { if (localStorage.getItem("whoson_alerts")) alertBtn.click(); } catch (e) { /* ignore */ }
  updateShown();
  connect();
  window.whosonConsole = { entries: entries, lastId: function () { return lastId; } };
})();
