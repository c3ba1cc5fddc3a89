/* whoson visitor chat panel, loaded by the tag only when a chat starts.
 * window.whosonChat.open({prefix, visitor, tab, invite}) opens the panel:
 * for an invitation it answers that request, otherwise it resumes the chat of
 * this tab (sessionStorage) or asks for a new one. Messages arrive pushed over
 * /chat/stream; every step (request, message, end, survey) is recorded by the
 * server as an event. All text is set with textContent, never as markup. */
(function () {
  "use strict";
  if (window.whosonChat) return;
  var KEY = "whoson_chat";
  var CSS = "#whoson-chat{position:fixed;right:18px;bottom:18px;width:330px;max-width:calc(100vw - 24px);" +
    "height:440px;max-height:calc(100vh - 36px);display:flex;flex-direction:column;background:#fff;color:#1d2330;" +
    "border-radius:12px;box-shadow:0 12px 40px rgba(16,24,40,.28);font:14px/1.4 system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;" +
    "z-index:2147483000;overflow:hidden}" +
    "#whoson-chat *{box-sizing:border-box;letter-spacing:normal;text-transform:none}" +
    "#whoson-chat [hidden]{display:none!important}" +
    "#whoson-chat button,#whoson-chat textarea{color:#1d2330;margin:0;box-shadow:none;min-height:0}" +
    "#whoson-chat .wc-head{display:flex;align-items:center;gap:10px;padding:12px 14px;background:#18202f;color:#fff}" +
    "#whoson-chat .wc-avatar{width:30px;height:30px;border-radius:50%;background:#2f6fed;display:grid;place-items:center;font-weight:700;text-transform:uppercase}" +
    "#whoson-chat .wc-title{flex:1;min-width:0}#whoson-chat .wc-title b{display:block;font-size:14px}" +
    "#whoson-chat .wc-title span{font-size:12px;color:#aab3c5}" +
    "#whoson-chat button{font:inherit;cursor:pointer}" +
    "#whoson-chat .wc-x{background:none;border:0;color:#cfd6e4;font-size:20px;line-height:1;padding:2px 6px}" +
    "#whoson-chat .wc-list{flex:1;overflow:auto;padding:12px;display:flex;flex-direction:column;gap:8px;background:#f6f7f9}" +
    "#whoson-chat .whoson-msg{max-width:82%;padding:7px 10px;border-radius:12px;overflow-wrap:anywhere;white-space:pre-wrap}" +
    "#whoson-chat .whoson-msg.agent{background:#fff;border:1px solid #e3e6ec;align-self:flex-start;border-bottom-left-radius:4px}" +
    "#whoson-chat .whoson-msg.visitor{background:#2f6fed;color:#fff;align-self:flex-end;border-bottom-right-radius:4px}" +
    "#whoson-chat .whoson-msg small{display:block;font-size:10.5px;opacity:.65;margin-top:2px}" +
    "#whoson-chat .wc-note{font-size:12px;color:#6b7385;text-align:center}" +
    "#whoson-chat form{display:flex;gap:8px;padding:10px;border-top:1px solid #e3e6ec;background:#fff}" +
    "#whoson-chat textarea{flex:1;resize:none;height:40px;border:1px solid #d5d9e2;border-radius:8px;padding:8px 10px;font:inherit}" +
    "#whoson-chat .wc-send{background:#2f6fed;color:#fff;border:0;border-radius:8px;padding:0 14px;font-weight:600}" +
    "#whoson-chat .wc-survey{padding:16px;display:flex;flex-direction:column;gap:10px;background:#fff;border-top:1px solid #e3e6ec}" +
    "#whoson-chat .wc-rates{display:flex;gap:6px;flex-wrap:wrap}" +
    "#whoson-chat .wc-rates button{min-width:36px;height:36px;padding:0 6px;border:1px solid #d5d9e2;border-radius:8px;background:#fff;color:#1d2330;font-weight:600}" +
    "#whoson-chat .wc-scale{display:flex;justify-content:space-between;font-size:11px;color:#6b7385;margin-top:-4px}" +
    "#whoson-chat .wc-rates button[aria-pressed=true]{background:#2f6fed;border-color:#2f6fed;color:#fff}" +
    "#whoson-chat .wc-x{color:#cfd6e4}#whoson-chat .wc-send{color:#fff}#whoson-chat .wc-skip{color:#6b7385}" +
    "#whoson-chat .wc-survey textarea{height:60px;flex:none}" +
    "#whoson-chat .wc-row{display:flex;justify-content:space-between;gap:8px}" +
    "#whoson-chat .wc-skip{background:none;border:0;color:#6b7385}";

  function el(tag, cls, text) { var e = document.createElement(tag); if (cls) e.className = cls; if (text != null) e.textContent = String(text); return e; }
  function clock(ts) { var d = new Date(ts); return isNaN(d) ? "" : d.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" }); }
  function saved() { try { return JSON.parse(sessionStorage.getItem(KEY) || "null"); } catch (e) { return null; } }
  function save(v) { try { if (v) sessionStorage.setItem(KEY, JSON.stringify(v)); else sessionStorage.removeItem(KEY); } catch (e) { /* private mode */ } }

  var current = null;

  function post(prefix, path, body) {
    return fetch(prefix + path, { method: "POST", credentials: "same-origin", headers: { "Content-Type": "application/json" },
      body: JSON.stringify(body) }).then(function (r) {
      return r.json().catch(function () { return {}; }).then(function (d) { if (!r.ok) throw new Error(d.error || "HTTP " + r.status); return d; });
    });
  }

  function Panel(opts) {
    var self = this;
    this.prefix = opts.prefix || ""; this.visitor = opts.visitor; this.invite = opts.invite || null;
    this.request = null; this.answered = false; this.ended = false; this.ids = {}; this.es = null;
    if (!document.getElementById("whoson-chat-style")) {
      var st = el("style"); st.id = "whoson-chat-style"; st.textContent = CSS; document.head.appendChild(st);
    }
    var root = this.root = el("div"); root.id = "whoson-chat";
    root.setAttribute("role", "dialog"); root.setAttribute("aria-label", "Chat");
    var head = el("div", "wc-head");
    this.avatar = el("div", "wc-avatar", "?");
    var title = el("div", "wc-title"); this.name = el("b", null, "Chat with us"); this.sub = el("span", null, "Connecting…");
    title.appendChild(this.name); title.appendChild(this.sub);
    var x = el("button", "wc-x", "×"); x.id = "whoson-chat-close"; x.type = "button";
    x.setAttribute("aria-label", "End chat"); x.title = "End chat";
    x.addEventListener("click", function () { self.close(); });
    head.appendChild(this.avatar); head.appendChild(title); head.appendChild(x);
    this.list = el("div", "wc-list"); this.list.setAttribute("aria-live", "polite");
    var form = this.form = el("form");
    var ta = this.input = el("textarea"); ta.id = "whoson-chat-input"; ta.placeholder = "Type your message…";
    ta.setAttribute("aria-label", "Your message"); ta.maxLength = 10000;
    var send = el("button", "wc-send", "Send"); send.id = "whoson-chat-send"; send.type = "submit";
    form.appendChild(ta); form.appendChild(send);
    form.addEventListener("submit", function (ev) { ev.preventDefault(); self.send(); });
    ta.addEventListener("keydown", function (ev) { if (ev.key === "Enter" && !ev.shiftKey) { ev.preventDefault(); self.send(); } });
    root.appendChild(head); root.appendChild(this.list); root.appendChild(form);
    document.body.appendChild(root);
  }
  Panel.prototype.start = function () {
    var self = this, stored = saved();
    var chosen = this.invite ? this.invite.request : (stored && stored.visitor === this.visitor ? stored.request : null);
    var ready = chosen ? Promise.resolve({ request: chosen })
      : post(this.prefix, "/chat/start", { visitor: this.visitor, url: location.pathname });
    ready.then(function (d) {
      self.request = d.request;
      save({ visitor: self.visitor, request: d.request });
      if (self.invite && self.invite.agent) self.agent(self.invite.agent);
      else self.sub.textContent = d.agents === 0 ? "We'll answer as soon as someone is back" : "An agent will be with you shortly";
      self.listen();
      self.input.focus();
    }).catch(function (e) { self.note("Chat unavailable: " + e.message); });
  };
  Panel.prototype.agent = function (name) {
    this.name.textContent = name; this.avatar.textContent = name.charAt(0); this.sub.textContent = "Online now";
  };
  Panel.prototype.note = function (text) { var n = el("div", "wc-note", text); this.list.appendChild(n); this.list.scrollTop = this.list.scrollHeight; };
  Panel.prototype.show = function (m) {
    if (this.ids[m.id]) return; this.ids[m.id] = true;
    if (m.sender === "visitor") this.answered = true;
    var text = m.text == null ? "(message)" : m.text;
    var b = el("div", "whoson-msg " + m.sender, text);
    b.appendChild(el("small", null, (m.sender === "agent" ? (m.agent || "Agent") : "You") + " · " + clock(m.ts)));
    this.list.appendChild(b); this.list.scrollTop = this.list.scrollHeight;
  };
  Panel.prototype.listen = function () {
    var self = this;
    var url = this.prefix + "/chat/stream?visitor=" + encodeURIComponent(this.visitor) + "&request=" + encodeURIComponent(this.request);
    var es = this.es = new EventSource(url);
    es.addEventListener("message", function (ev) { self.show(JSON.parse(ev.data)); });
    es.addEventListener("state", function (ev) { var s = JSON.parse(ev.data); if (s.agent) self.agent(s.agent); });
    es.addEventListener("end", function (ev) { var s = JSON.parse(ev.data); es.close(); self.finish(s.survey); });
    // A host without streaming (WSGI) refuses the stream: poll the transcript instead.
    es.onerror = function () { if (es.readyState === 2 && !self.ended) { self.es = null; self.poll(); } };
  };
  Panel.prototype.poll = function () {
    var self = this;
    if (this.ended || !this.root.parentNode) return;
    fetch(this.prefix + "/chat/messages?visitor=" + encodeURIComponent(this.visitor) + "&request=" + encodeURIComponent(this.request),
      { credentials: "same-origin" }).then(function (r) { return r.json(); }).then(function (d) {
      (d.messages || []).forEach(function (m) { self.show(m); });
      if (d.agent) self.agent(d.agent);
      if (d.ended) self.finish(d.survey); else setTimeout(function () { self.poll(); }, 2000);
    }).catch(function () { setTimeout(function () { self.poll(); }, 5000); });
  };
  Panel.prototype.send = function () {
    var self = this, text = this.input.value.trim();
    if (!text || !this.request || this.ended) return;
    this.input.value = "";
    post(this.prefix, "/chat/message", { visitor: this.visitor, request: this.request, text: text })
      .then(function (d) { self.show({ id: d.id, sender: "visitor", text: text, ts: new Date().toISOString() }); })
      .catch(function (e) { self.input.value = text; self.note("Not sent: " + e.message); });
  };
  Panel.prototype.close = function () {
    var self = this;
    if (this.ended || !this.request) { this.remove(); return; }
    var decline = !this.answered && this.invite;
    post(this.prefix, decline ? "/chat/decline" : "/chat/end", { visitor: this.visitor, request: this.request })
      .then(function (d) { if (decline) self.remove(); else self.finish(d.survey); })
      .catch(function () { self.remove(); });
  };
  Panel.prototype.finish = function (scale) {
    if (this.ended) return;
    this.ended = true;
    if (this.es) this.es.close();
    this.form.hidden = true;
    this.sub.textContent = "Chat ended";
    if (!this.answered) { save(null); this.note("The chat has ended."); return; }
    this.survey(scale || { low: 1, high: 5 });
  };
  Panel.prototype.survey = function (scale) {
    var self = this, rating = null;
    var box = el("div", "wc-survey"); box.id = "whoson-survey";
    box.appendChild(el("b", null, "How did we do?"));
    var rates = el("div", "wc-rates"); rates.setAttribute("role", "group"); rates.setAttribute("aria-label", "Rating from " + scale.low + " to " + scale.high);
    for (var i = scale.low; i <= scale.high; i++) (function (n) {
      var b = el("button", null, n); b.type = "button"; b.dataset.rating = n; b.setAttribute("aria-pressed", "false");
      b.addEventListener("click", function () {
        rating = n;
        Array.prototype.forEach.call(rates.children, function (c) { c.setAttribute("aria-pressed", String(c === b)); });
      });
      rates.appendChild(b);
    })(i);
    var ends = el("div", "wc-scale"); ends.appendChild(el("span", null, scale.low + " = poor")); ends.appendChild(el("span", null, scale.high + " = excellent"));
    var fb = el("textarea"); fb.id = "whoson-survey-feedback"; fb.placeholder = "Anything we could do better? (optional)";
    fb.setAttribute("aria-label", "Feedback"); fb.maxLength = 2000;
    var row = el("div", "wc-row"), skip = el("button", "wc-skip", "Skip"), ok = el("button", "wc-send", "Send");
    skip.type = ok.type = "button"; ok.id = "whoson-survey-submit";
    skip.addEventListener("click", function () { save(null); self.remove(); });
    ok.addEventListener("click", function () {
      ok.disabled = true;
      post(self.prefix, "/chat/survey", { visitor: self.visitor, request: self.request, rating: rating, feedback: fb.value.trim() || null })
        .then(function () { save(null); box.textContent = ""; box.appendChild(el("b", null, "Thank you!")); setTimeout(function () { self.remove(); }, 2500); })
        .catch(function (e) { ok.disabled = false; self.note("Not sent: " + e.message); });
    });
    row.appendChild(skip); row.appendChild(ok);
    box.appendChild(rates); box.appendChild(ends); box.appendChild(fb); box.appendChild(row);
    this.root.appendChild(box);
  };
  Panel.prototype.remove = function () {
    if (this.es) this.es.close();
    if (this.root.parentNode) this.root.parentNode.removeChild(this.root);
    if (current === this) current = null;
  };

  window.whosonChat = {
    open: function (opts) {
      opts = opts || {};
      if (!opts.visitor) return null;
      if (current && !current.ended && (!opts.invite || opts.invite.request === current.request)) { current.input.focus(); return current; }
      if (current) current.remove();
      current = new Panel(opts);
      current.start();
      return current;
    },
    decline: function (opts) {
      if (!opts || !opts.visitor || !opts.invite) return Promise.resolve(null);
      return post(opts.prefix || "", "/chat/decline", { visitor: opts.visitor, request: opts.invite.request });
    }
  };
})();
