/* whoson tag: page views, heartbeats while visible, leaves, invitations. Docs: docs/web.md */
(function () {
  "use strict";
  var W = window, D = document, N = navigator, L = location;
  var S = /*SETTINGS*/{}; // from the server: {hb: heartbeat seconds, allow: query parameters kept}
  var me = D.currentScript;
  var base = me ? me.src.replace(/\/t\.js([?#].*)?$/, "") : L.origin + "/whoson";
  var cfg = (me && me.dataset) || {};
  var hb = (S.hb || 30) * 1e3;
  var keepRe = new RegExp("^(" + (S.allow || ["utm_*"]).map(function (p) {
    return p.replace(/[.+?^${}()|[\]\\]/g, "\\$&").replace(/\*/g, ".*");
  }).join("|") + ")$");
  var MAXAGE = 6e5, BATCH = 50;
  var ls = store("localStorage"), ss = store("sessionStorage");
  var consent = cfg.consent !== "required" || ls.get("whoson_consent") === "1";
  var queue = [], busy = 0, wait = 0, delay = 1e3, flushT = 0, beatT = 0, es = null;
  var vid = consent ? visitorId() : null;
  var tab = ss.get("whoson_tab") || ss.set("whoson_tab", rid());
  var pv = null, url = null, left = true, shown = {};

  function store(name) {
    var s = null;
    try { s = W[name]; s.getItem("x"); } catch (e) { s = null; }
    return {
      get: function (k) { try { return s && s.getItem(k); } catch (e) { return null; } },
      set: function (k, v) { try { if (s) s.setItem(k, v); } catch (e) { /* full or blocked */ } return v; },
      del: function (k) { try { if (s) s.removeItem(k); } catch (e) { /* blocked */ } }
    };
  }
  function rid() {
    var a = new Uint8Array(12), i, out = "";
    crypto.getRandomValues(a);
    for (i = 0; i < a.length; i++) out += (a[i] + 256).toString(16).slice(1);
    return out;
  }
  function cookie(v, age) {
    D.cookie = "whoson_vid=" + v + ";path=/;max-age=" + age + ";SameSite=Lax" + (L.protocol === "https:" ? ";Secure" : "");
  }
  function visitorId() {
    var m = D.cookie.match(/(?:^|; )whoson_vid=([\w.-]+)/);
    var v = ls.get("whoson_vid") || (m && m[1]) || rid();
    ls.set("whoson_vid", v);
    cookie(v, 63072000); // two years, renewed on every page
    return v;
  }
  function off() { return ls.get("whoson_optout") === "1"; }

  // Query strings keep only allowlisted parameters; a fragment only when it is a route (#/...).
  function scrub(href) {
    var u;
    try { u = new URL(href, L.href); } catch (e) { return ""; }
    var keep = [];
    u.searchParams.forEach(function (v, k) {
      if (keepRe.test(k)) keep.push(encodeURIComponent(k) + "=" + encodeURIComponent(v));
    });
    var hash = /^#[/!]/.test(u.hash) ? u.hash : "";
    return (u.origin === L.origin ? "" : u.origin) + u.pathname + (keep.length ? "?" + keep.join("&") : "") + hash;
  }

  function add(type, fields) {
    if (off()) return;
    var e = { id: rid(), type: type, t: Date.now(), tab: tab, pageview: pv, url: url };
    for (var k in fields) e[k] = fields[k];
    queue.push(e);
    if (!flushT) flushT = setTimeout(flush, 300);
  }
  function body(list) {
    var now = Date.now();
    return JSON.stringify({
      visitor: vid, automation: !!N.webdriver || undefined,
      events: list.map(function (e) {
        var o = {}, k;
        for (k in e) if (k !== "t" && e[k] != null) o[k] = e[k];
        o.visitor = vid; o.age_ms = Math.max(0, now - e.t);
        return o;
      })
    });
  }
  function fresh() { // events too old for the collector (10 minutes) would only be rejected
    var now = Date.now();
    queue = queue.filter(function (e) { return now - e.t < MAXAGE - 5e3; });
  }
  function flush() {
    flushT = 0;
    if (!consent || busy || !queue.length || off()) return;
    var now = Date.now();
    if (now < wait) { flushT = setTimeout(flush, wait - now); return; }
    fresh();
    var list = queue.splice(0, BATCH);
    if (!list.length) return;
    busy = 1;
    fetch(base + "/collect", { method: "POST", body: body(list), keepalive: true, credentials: "same-origin" })
      .then(function (r) {
        if (r.status === 429 || r.status >= 500) {
          var after = parseFloat(r.headers.get("Retry-After"));
          retry(list, after > 0 ? after * 1e3 : 0);
          return;
        }
        delay = 1e3;
        busy = 0;
        if (r.status === 202) r.json().then(reply, function () { /* not JSON: ignore */ });
        if (queue.length) flush(); // other 4xx: this batch is dropped, never retried
      }, function () { retry(list, 0); });
  }
  function retry(list, after) {
    list.forEach(function (e) { e.retry = 1; }); // the collector keeps the first stored time: a duplicate
    queue = list.concat(queue);
    wait = Date.now() + Math.max(after, delay);
    delay = Math.min(delay * 2, 6e4);
    busy = 0;
    flushT = setTimeout(flush, wait - Date.now());
  }
  function reply(r) {
    if (r.heartbeat > 0 && r.heartbeat * 1e3 !== hb) { hb = r.heartbeat * 1e3; beat(); }
    if (r.invite) invite(r.invite);
  }
  // On leaving: everything queued goes with the leave in one beacon; kept for the next page if it fails.
  function beacon() {
    fresh();
    if (!consent || !queue.length) return;
    var list = queue.splice(0, BATCH);
    if (!N.sendBeacon || !N.sendBeacon(base + "/collect", body(list))) queue = list.concat(queue);
    if (queue.length) ss.set("whoson_q", JSON.stringify(queue));
  }

  function view(ref) {
    pv = rid(); url = scrub(L.href); left = false;
    add("page_view", { title: D.title.slice(0, 500), referrer: ref ? scrub(ref) : undefined });
    beat();
  }
  function beat() {
    clearTimeout(beatT);
    if (D.visibilityState === "visible" && !left) beatT = setTimeout(function () { add("heartbeat"); beat(); }, hb);
  }
  function leave() {
    clearTimeout(beatT);
    if (!left && pv) { left = true; add("page_leave"); }
    clearTimeout(flushT); flushT = 0;
    beacon();
    stream(0);
  }
  function route() { // single-page-app navigation: a new view unless only an ignored part changed
    if (scrub(L.href) !== url && !left) view(url);
  }
  function stream(on) {
    if (on && !es && W.EventSource && consent && vid) {
      es = new EventSource(base + "/chat/stream?visitor=" + encodeURIComponent(vid));
      es.addEventListener("invite", function (m) { try { invite(JSON.parse(m.data)); } catch (e) { /* bad data */ } });
      es.onerror = function () { if (es && es.readyState === 2) es = null; };
    } else if (!on && es) { es.close(); es = null; }
  }

  // Invitations: a DOM event first (a host may show its own widget), else an accessible bubble.
  function invite(inv) {
    var key = inv.request || inv.trigger || "x";
    if (shown[key]) return;
    shown[key] = 1;
    if (!W.dispatchEvent(new CustomEvent("whoson:invite", { detail: inv, cancelable: true }))) return;
    var b = D.createElement("div"), p = D.createElement("p"), yes = D.createElement("button"), no = D.createElement("button");
    b.id = "whoson-bubble"; b.setAttribute("role", "dialog"); b.setAttribute("aria-live", "polite");
    b.setAttribute("aria-label", "Chat invitation");
    b.style.cssText = "position:fixed;right:16px;bottom:16px;z-index:99999;max-width:300px;padding:14px;" +
      "background:#fff;color:#222;border-radius:8px;box-shadow:0 4px 16px #0004;font:15px system-ui";
    p.textContent = (inv.agent ? inv.agent + ": " : "") + (inv.message || "Can we help you?");
    p.style.margin = "0 0 10px";
    yes.id = "whoson-accept"; yes.textContent = "Chat now";
    no.id = "whoson-dismiss"; no.textContent = "No thanks"; no.setAttribute("aria-label", "Dismiss the invitation");
    var bs = "padding:6px 12px;border:0;border-radius:6px;cursor:pointer;font:inherit;margin-right:8px;";
    yes.style.cssText = bs + "background:#1a6fd6;color:#fff";
    no.style.cssText = bs + "background:#e8e8e8;color:#222";
    b.appendChild(p); b.appendChild(yes); b.appendChild(no);
    D.body.appendChild(b);
    yes.focus();
    function close() { b.remove(); D.removeEventListener("keydown", esc); }
    function esc(e) { if (e.key === "Escape") no.click(); }
    D.addEventListener("keydown", esc);
    yes.onclick = function () {
      close();
      add(inv.trigger && !inv.agent ? "auto_message_click" : "widget_click",
        inv.trigger && !inv.agent ? { trigger: inv.trigger, link: inv.link || undefined } : { source: "notification" });
      chat(inv);
    };
    no.onclick = function () {
      close();
      if (inv.request) fetch(base + "/chat/decline", { method: "POST", credentials: "same-origin",
        body: JSON.stringify({ visitor: vid, request: inv.request }) });
    };
  }
  function chat(inv) { // the chat panel loads only when needed
    var open = function () { W.whosonChat.open({ prefix: base, visitor: vid, tab: tab, invite: inv || null }); };
    if (W.whosonChat) return open();
    var s = D.createElement("script");
    s.src = base + "/chat.js"; s.onload = open;
    D.head.appendChild(s);
  }

  // The host's API: whoson("consent", true|false), ("optout", true|false), ("track", type, fields), ("chat").
  function api(cmd, a, b) {
    if (cmd === "consent") {
      if (a) { ls.set("whoson_consent", "1"); if (!consent) { consent = true; vid = visitorId(); flush(); stream(1); } }
      else { consent = false; queue = []; ls.del("whoson_consent"); ls.del("whoson_vid"); cookie("", 0); vid = null; stream(0); }
    } else if (cmd === "optout") {
      if (a) { ls.set("whoson_optout", "1"); queue = []; } else ls.del("whoson_optout");
    } else if (cmd === "track") add(a, b || {});
    else if (cmd === "chat") { add("widget_click", { source: "widget" }); chat(null); }
    else if (cmd === "ids") return { visitor: vid, tab: tab, pageview: pv, prefix: base };
  }
  var pending = (W.whoson && W.whoson.q) || [];
  W.whoson = api;

  try { queue = JSON.parse(ss.get("whoson_q") || "[]"); } catch (e) { queue = []; }
  ss.del("whoson_q");
  ["pushState", "replaceState"].forEach(function (m) {
    var orig = history[m];
    history[m] = function () { var r = orig.apply(this, arguments); route(); return r; };
  });
  W.addEventListener("popstate", route);
  W.addEventListener("hashchange", route);
  W.addEventListener("pagehide", leave);
  W.addEventListener("pageshow", function (e) { if (e.persisted) appear(); }); // back-forward cache
  function appear() { if (left && D.visibilityState === "visible" && !D.prerendering) { view(pv ? 0 : D.referrer); stream(1); } }
  D.addEventListener("visibilitychange", function () { if (D.visibilityState === "hidden") leave(); else appear(); });
  D.addEventListener("prerenderingchange", appear);
  appear(); // a prerendered or background page is not viewed until it is shown
  for (var i = 0; i < pending.length; i++) api.apply(null, pending[i]);
  if (queue.length) flush();
  if (consent && ss.get("whoson_chat")) chat(null); // an open chat follows the visitor to the next page
})();
