/*
 * CXM web chat widget.
 *
 *   <script>window.cxmChat = {userId: "42", userHash: "<hex HMAC-SHA256>", name: "Ada", email: "ada@example.com"};</script>
 *   <script src="https://cxm.example.com/widget/chat.js" data-channel="7" async></script>
 *
 * Everything lives in a Shadow DOM, so the host page's CSS cannot reach in and ours cannot leak out.
 * Every word it shows comes from the server, translated for navigator.language.
 */
(function () {
  "use strict";

  var script =
    document.currentScript ||
    document.querySelector('script[data-channel][src*="/widget/chat.js"]');
  if (!script || !script.dataset.channel) return;
  var channelId = script.dataset.channel;
  window.__cxmChatLoaded = window.__cxmChatLoaded || {};
  if (window.__cxmChatLoaded[channelId]) return; // the snippet was pasted twice
  window.__cxmChatLoaded[channelId] = true;

  var base = new URL(script.src, location.href);
  var site = window.cxmChat || {};
  var color = /^#[0-9a-fA-F]{3,8}$/.test(script.dataset.color || "") ? script.dataset.color : "#4f46e5";
  var KEY = "cxm-chat:" + channelId + ":";
  var CLOSE_REFUSED = [4403, 4404];
  var CLOSE_ERASED = 4410;
  var PING_MS = 25000;

  var CSS = [
    ":host{all:initial}",
    "*{box-sizing:border-box}",
    ".root{position:fixed;right:20px;bottom:20px;z-index:2147483000;font:14px/1.45 system-ui,-apple-system,'Segoe UI',Roboto,'Helvetica Neue',Arial,sans-serif;color:#1f2937;--c:" + color + "}",
    "button{font:inherit;cursor:pointer}",
    ".launcher{width:56px;height:56px;border-radius:50%;border:0;background:var(--c);color:#fff;display:grid;place-items:center;box-shadow:0 8px 24px rgba(17,24,39,.25);transition:transform .15s ease;margin-left:auto;position:relative}",
    ".launcher:hover{transform:scale(1.05)}",
    ".launcher:focus-visible,.icon-btn:focus-visible,.send:focus-visible,.retry:focus-visible{outline:3px solid #93c5fd;outline-offset:2px}",
    ".launcher svg{width:26px;height:26px}",
    ".badge{position:absolute;top:-2px;right:-2px;min-width:20px;height:20px;padding:0 6px;border-radius:10px;background:#dc2626;color:#fff;font-size:12px;font-weight:600;display:grid;place-items:center;border:2px solid #fff}",
    ".badge[hidden]{display:none}",
    ".panel{position:absolute;right:0;bottom:72px;width:370px;height:540px;max-height:calc(100vh - 110px);background:#fff;border-radius:16px;box-shadow:0 16px 48px rgba(17,24,39,.28);display:flex;flex-direction:column;overflow:hidden;border:1px solid rgba(17,24,39,.08)}",
    ".panel[hidden]{display:none}",
    ".head{background:var(--c);color:#fff;padding:16px 16px 14px;display:flex;gap:12px;align-items:flex-start}",
    ".head-text{flex:1;min-width:0}",
    ".title{margin:0;font-size:16px;font-weight:650;line-height:1.3}",
    ".subtitle{margin:2px 0 0;font-size:13px;opacity:.9}",
    ".icon-btn{border:0;background:rgba(255,255,255,.16);color:#fff;width:32px;height:32px;border-radius:8px;display:grid;place-items:center;flex:none}",
    ".icon-btn:hover{background:rgba(255,255,255,.28)}",
    ".icon-btn svg{width:18px;height:18px}",
    ".status{font-size:12px;padding:6px 16px;background:#fef3c7;color:#92400e;text-align:center}",
    ".status:empty{display:none}",
    ".log{flex:1;overflow-y:auto;padding:16px;display:flex;flex-direction:column;gap:8px;background:#f9fafb}",
    ".empty{margin:auto;text-align:center;color:#6b7280;max-width:240px;font-size:13px}",
    ".msg{max-width:80%;display:flex;flex-direction:column;gap:2px}",
    ".msg.in{align-self:flex-end;align-items:flex-end}",
    ".msg.out{align-self:flex-start;align-items:flex-start}",
    ".bubble{padding:8px 12px;border-radius:14px;white-space:pre-wrap;overflow-wrap:anywhere}",
    ".in .bubble{background:var(--c);color:#fff;border-bottom-right-radius:4px}",
    ".out .bubble{background:#fff;color:#111827;border:1px solid #e5e7eb;border-bottom-left-radius:4px}",
    ".meta{font-size:11px;color:#6b7280;padding:0 4px}",
    ".msg.failed .bubble{opacity:.6}",
    ".msg.failed .meta{color:#b91c1c}",
    ".retry{border:0;background:none;color:#b91c1c;text-decoration:underline;padding:0 0 0 4px;font-size:11px}",
    ".alert{font-size:12px;padding:8px 16px;background:#fee2e2;color:#991b1b}",
    ".alert:empty{display:none}",
    "form{display:flex;gap:8px;padding:12px;border-top:1px solid #e5e7eb;background:#fff;align-items:flex-end}",
    "textarea{flex:1;resize:none;border:1px solid #d1d5db;border-radius:10px;padding:9px 12px;font:inherit;color:inherit;max-height:120px;min-height:40px;background:#fff}",
    "textarea:focus{outline:2px solid var(--c);outline-offset:-1px;border-color:transparent}",
    ".send{border:0;background:var(--c);color:#fff;border-radius:10px;height:40px;padding:0 14px;font-weight:600}",
    ".send:disabled{opacity:.5;cursor:default}",
    ".sr{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap}",
    "@media (max-width:480px){.root{right:12px;bottom:12px}.panel{position:fixed;inset:0;width:auto;height:auto;max-height:none;border-radius:0}}",
    "@media (prefers-reduced-motion:reduce){.launcher{transition:none}}",
  ].join("\n");

  var ICON_CHAT =
    '<svg viewBox="0 0 24 24" fill="none" stroke="currentColor" stroke-width="2" stroke-linecap="round" stroke-linejoin="round" aria-hidden="true"><path d="M21 12a8 8 0 0 1-11.6 7.1L4 20l1-4.6A8 8 0 1 1 21 12z"/></svg>';
  var ICON_CLOSE =
    '<svg viewBox="0 0 24 24" fill="none" stroke="currentColor" stroke-width="2" stroke-linecap="round" aria-hidden="true"><path d="M6 6l12 12M18 6L6 18"/></svg>';

  // --- storage (private browsing may forbid it: the chat still works, it just forgets) -------------
  function load(name, fallback) {
    try {
      var raw = localStorage.getItem(KEY + name);
      return raw ? JSON.parse(raw) : fallback;
    } catch (e) {
      return fallback;
    }
  }
  function save(name, value) {
    try {
      if (value === null) localStorage.removeItem(KEY + name);
      else localStorage.setItem(KEY + name, JSON.stringify(value));
    } catch (e) {}
  }

  function newId() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    var bytes = new Uint8Array(16);
    crypto.getRandomValues(bytes);
    return Array.prototype.map.call(bytes, function (b) { return ("0" + b.toString(16)).slice(-2); }).join("");
  }

  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (name) {
      if (name === "text") node.textContent = attrs[name];
      else if (name === "html") node.innerHTML = attrs[name]; // only our own static icons
      else node.setAttribute(name, attrs[name]);
    });
    (children || []).forEach(function (child) { node.appendChild(child); });
    return node;
  }

  // --- state ----------------------------------------------------------------------------------
  var labels = load("labels", null);
  var outbox = load("outbox", []); // sent but not yet acknowledged: resent (same id) after reconnecting
  var shown = {}; // message id -> element
  var ui = null;
  var socket = null;
  var ready = false;
  var attempts = 0;
  var pingTimer = null;
  var unread = 0;
  var stopped = false;

  // --- rendering ------------------------------------------------------------------------------
  function build() {
    if (ui) return;
    var host = el("div", { id: "cxm-chat", "data-cxm-chat": channelId });
    var shadow = host.attachShadow({ mode: "open" });
    shadow.appendChild(el("style", { text: CSS }));

    var launcher = el("button", { type: "button", class: "launcher", "aria-expanded": "false", "aria-controls": "cxm-panel", "data-testid": "launcher", html: ICON_CHAT });
    var badge = el("span", { class: "badge", hidden: "", "aria-hidden": "true" });
    launcher.appendChild(badge);
    var title = el("h2", { class: "title", id: "cxm-title" });
    var subtitle = el("p", { class: "subtitle" });
    var close = el("button", { type: "button", class: "icon-btn", "data-testid": "close", html: ICON_CLOSE });
    var status = el("div", { class: "status", role: "status", "aria-live": "polite", "data-testid": "status" });
    var log = el("div", { class: "log", role: "log", "aria-live": "polite", "aria-labelledby": "cxm-title", tabindex: "0", "data-testid": "log" });
    var empty = el("p", { class: "empty" });
    log.appendChild(empty);
    var alert = el("div", { class: "alert", role: "alert", "data-testid": "alert" });
    var inputLabel = el("label", { class: "sr", for: "cxm-input" });
    var input = el("textarea", { id: "cxm-input", rows: "1", maxlength: "5000", "data-testid": "input" });
    var send = el("button", { type: "submit", class: "send", "data-testid": "send" });
    var form = el("form", { novalidate: "" }, [inputLabel, input, send]);
    var panel = el("section", { class: "panel", id: "cxm-panel", role: "dialog", "aria-modal": "false", "aria-labelledby": "cxm-title", hidden: "", "data-testid": "panel" }, [
      el("header", { class: "head" }, [el("div", { class: "head-text" }, [title, subtitle]), close]),
      status,
      log,
      alert,
      form,
    ]);
    shadow.appendChild(el("div", { class: "root" }, [panel, launcher]));
    document.body.appendChild(host);

    ui = { host: host, launcher: launcher, badge: badge, panel: panel, title: title, subtitle: subtitle, close: close, status: status, log: log, empty: empty, alert: alert, inputLabel: inputLabel, input: input, send: send };

    launcher.addEventListener("click", function () { setOpen(panel.hidden); });
    close.addEventListener("click", function () { setOpen(false); });
    panel.addEventListener("keydown", function (event) {
      if (event.key === "Escape") { event.preventDefault(); setOpen(false); }
    });
    input.addEventListener("keydown", function (event) {
      if (event.key === "Enter" && !event.shiftKey && !event.isComposing) { event.preventDefault(); submit(); }
    });
    input.addEventListener("input", grow);
    form.addEventListener("submit", function (event) { event.preventDefault(); submit(); });
    applyLabels();
    var wasOpen = false;
    try { wasOpen = sessionStorage.getItem(KEY + "open") === "1"; } catch (e) {}
    if (wasOpen) setOpen(true, true);
  }

  function applyLabels() {
    if (!ui || !labels) return;
    ui.launcher.setAttribute("aria-label", ui.panel.hidden ? labels.open : labels.close);
    ui.title.textContent = labels.title;
    ui.subtitle.textContent = labels.subtitle;
    ui.close.setAttribute("aria-label", labels.close);
    ui.close.title = labels.close;
    ui.empty.textContent = labels.empty;
    ui.inputLabel.textContent = labels.input;
    ui.input.placeholder = labels.placeholder;
    ui.send.textContent = labels.send;
    setStatus(ready ? "" : labels.connecting);
  }

  function setOpen(open, quiet) {
    ui.panel.hidden = !open;
    ui.launcher.setAttribute("aria-expanded", String(open));
    ui.launcher.setAttribute("aria-label", open ? labels.close : labels.open);
    ui.launcher.innerHTML = open ? ICON_CLOSE : ICON_CHAT;
    ui.launcher.appendChild(ui.badge);
    try { sessionStorage.setItem(KEY + "open", open ? "1" : "0"); } catch (e) {}
    if (open) {
      unread = 0;
      ui.badge.hidden = true;
      scrollDown();
      if (!quiet) ui.input.focus();
    } else if (!quiet) {
      ui.launcher.focus();
    }
  }

  function setStatus(text) {
    if (ui) ui.status.textContent = text || "";
  }

  function grow() {
    ui.input.style.height = "auto";
    ui.input.style.height = Math.min(ui.input.scrollHeight, 120) + "px";
  }

  function scrollDown() {
    ui.log.scrollTop = ui.log.scrollHeight;
  }

  function timeOf(iso) {
    var at = iso ? new Date(iso) : new Date();
    return isNaN(at) ? "" : at.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
  }

  function render(message, state) {
    var row = shown[message.id];
    if (!row) {
      row = el("div", { class: "msg " + (message.direction === "out" ? "out" : "in"), "data-testid": "message-" + message.direction });
      row.bubble = el("div", { class: "bubble" });
      row.meta = el("div", { class: "meta" });
      row.appendChild(row.bubble);
      row.appendChild(row.meta);
      ui.log.appendChild(row);
      shown[message.id] = row;
    }
    row.bubble.textContent = message.text;
    // Files from the agent arrive as signed links; shown as plain download links, never inlined.
    (message.attachments || []).forEach(function (file) {
      if (!/^https?:\/\//.test(file.url || "")) return;
      var link = el("a", { href: file.url, target: "_blank", rel: "noopener noreferrer", class: "file", text: file.filename || file.url });
      row.bubble.appendChild(el("br"));
      row.bubble.appendChild(link);
    });
    var failed = state === "failed" || state === "refused";
    row.classList.toggle("failed", failed);
    var who = message.direction === "out" ? message.author || labels.agent : labels.you;
    row.meta.textContent = who + " · " + (state === "sending" ? labels.sending : failed ? labels.not_sent : timeOf(message.at));
    if (state === "failed") {
      var retry = el("button", { type: "button", class: "retry", text: labels.retry });
      retry.addEventListener("click", function () { resend(message.id); });
      row.meta.appendChild(retry);
    }
    ui.empty.hidden = true;
    scrollDown();
    return row;
  }

  // --- sending --------------------------------------------------------------------------------
  function submit() {
    var text = ui.input.value.trim();
    if (!text) return;
    var message = { id: newId(), direction: "in", text: text, at: new Date().toISOString() };
    outbox.push(message);
    save("outbox", outbox);
    render(message, "sending");
    ui.input.value = "";
    grow();
    ui.alert.textContent = "";
    transmit(message);
  }

  function transmit(message) {
    if (socket && ready && socket.readyState === WebSocket.OPEN) {
      socket.send(JSON.stringify({ type: "message", id: message.id, text: message.text }));
    }
  }

  function resend(id) {
    var message = outbox.filter(function (m) { return m.id === id; })[0];
    if (!message) return;
    render(message, "sending");
    transmit(message);
  }

  // Refusals that a later attempt can get past; anything else (too long, empty) would fail forever.
  var RETRYABLE = ["rate_limited", "store_failed", "not_ready"];

  function settle(id, error) {
    var message = outbox.filter(function (m) { return m.id === id; })[0];
    if (!message) return;
    var retry = error && RETRYABLE.indexOf(error) !== -1;
    if (!retry) {
      outbox = outbox.filter(function (m) { return m.id !== id; });
      save("outbox", outbox);
    }
    render(message, error ? (retry ? "failed" : "refused") : "sent");
  }

  // --- the connection -------------------------------------------------------------------------
  function connect() {
    if (stopped) return;
    var url = (base.protocol === "https:" ? "wss://" : "ws://") + base.host + "/ws/webchat/" + encodeURIComponent(channelId) + "/?lang=" + encodeURIComponent(navigator.language || "en");
    socket = new WebSocket(url);
    socket.onopen = function () {
      socket.send(JSON.stringify({
        type: "auth",
        token: load("token", ""),
        userId: site.userId ? String(site.userId) : "",
        userHash: site.userHash || "",
        name: site.name || "",
        email: site.email || "",
        page: location.href,
      }));
    };
    socket.onmessage = function (event) {
      var frame;
      try { frame = JSON.parse(event.data); } catch (e) { return; }
      handle(frame);
    };
    socket.onclose = function (event) {
      ready = false;
      clearInterval(pingTimer);
      if (CLOSE_REFUSED.indexOf(event.code) !== -1) {
        // Not enabled for this site, or the channel is gone: retrying cannot help.
        stopped = true;
        if (ui && !outbox.length && !Object.keys(shown).length) ui.host.remove();
        return;
      }
      if (event.code === CLOSE_ERASED) {
        // This visitor was erased: forget the token and unsent text, and come back as somebody new.
        save("token", null);
        outbox = [];
        save("outbox", outbox);
      }
      if (labels) setStatus(labels.offline);
      var delay = Math.min(30000, 1000 * Math.pow(2, attempts)) * (0.5 + Math.random() / 2);
      attempts += 1;
      setTimeout(connect, delay);
    };
  }

  function handle(frame) {
    if (frame.type === "ready") {
      ready = true;
      attempts = 0;
      labels = frame.labels;
      save("labels", labels);
      if (frame.visitor_token) save("token", frame.visitor_token);
      if (!ui) build();
      applyLabels();
      showHistory(frame.history || []);
      outbox.forEach(transmit);
      clearInterval(pingTimer);
      pingTimer = setInterval(function () {
        if (socket.readyState === WebSocket.OPEN) socket.send('{"type":"ping"}');
      }, PING_MS);
    } else if (frame.type === "message") {
      var message = frame.message;
      var mine = outbox.some(function (m) { return m.id === message.id; });
      if (!ui) return;
      if (!mine) render(message, "sent");
      if (message.direction === "out" && ui.panel.hidden) {
        unread += 1;
        ui.badge.textContent = String(unread);
        ui.badge.hidden = false;
      }
    } else if (frame.type === "ack") {
      settle(frame.id, "");
    } else if (frame.type === "error") {
      if (frame.id) settle(frame.id, frame.code || "invalid");
      if (ui) ui.alert.textContent = frame.message || "";
    }
  }

  function showHistory(history) {
    Object.keys(shown).forEach(function (id) { shown[id].remove(); delete shown[id]; });
    ui.empty.hidden = false;
    history.forEach(function (message) { render(message, "sent"); });
    outbox.forEach(function (message) { if (!shown[message.id]) render(message, "sending"); });
  }

  if (labels) {
    if (document.body) build();
    else document.addEventListener("DOMContentLoaded", build);
  }
  connect();
})();
