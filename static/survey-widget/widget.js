/*
 * CXM survey widget. <script async src="https://HOST/s/w/widget.js" data-survey="KEY"
 *   data-customer="42" data-signature="HMAC-SHA256 hex of 42, made on your server"></script>
 * Shadow DOM: the page's CSS cannot reach in. Texts come from the server. No dependencies.
 */
(function () {
  "use strict";
  var script = document.currentScript || document.querySelector("script[data-survey]");
  if (!script || !script.dataset.survey) return;
  var d = script.dataset, key = d.survey;
  window.__cxmSurvey = window.__cxmSurvey || {};
  if (window.__cxmSurvey[key]) return; // pasted twice
  window.__cxmSurvey[key] = true;

  var base = new URL("./", script.src).href;
  var preview = d.preview === "1";
  var inline = d.inline ? document.getElementById(d.inline) : null;
  var color = /^#[0-9a-fA-F]{3,8}$/.test(d.color || "") ? d.color : "#4f46e5";
  var KEY = "cxm-survey:" + key + ":";
  var DAY = 864e5;

  var CSS =
    ":host{all:initial}*{box-sizing:border-box}" +
    ".card{position:fixed;right:20px;bottom:20px;z-index:2147483000;width:360px;max-width:calc(100vw - 24px);background:#fff;color:#1f2937;border:1px solid rgba(17,24,39,.1);border-radius:14px;box-shadow:0 14px 40px rgba(17,24,39,.25);padding:16px;font:14px/1.45 system-ui,'Segoe UI',Roboto,sans-serif;--c:" + color + "}" +
    ".card.inline{position:relative;right:auto;bottom:auto;z-index:auto;width:100%;box-shadow:0 6px 20px rgba(17,24,39,.12)}" +
    ".top{display:flex;gap:8px;align-items:flex-start}" +
    ".q{flex:1;margin:0 0 12px;font-size:15px;font-weight:600;line-height:1.35}" +
    "button{font:inherit;cursor:pointer;color:inherit}" +
    ".x{border:0;background:none;width:28px;height:28px;border-radius:6px;font-size:20px;line-height:1;color:#6b7280;flex:none}" +
    ".scale{display:flex;gap:4px}.many{display:grid;grid-template-columns:repeat(11,1fr);gap:3px}.many .s{padding:0;font-size:13px}" +
    ".s{flex:1;min-width:0;min-height:36px;border:1px solid #d1d5db;border-radius:8px;background:#fff;font-weight:600;padding:2px 4px;line-height:1.2}" +
    ".s:hover,.s.on{background:var(--c);border-color:var(--c);color:#fff}" +
    ".s:disabled{cursor:default;opacity:.6}" +
    ".ends{display:flex;justify-content:space-between;gap:8px;margin-top:6px;font-size:12px;color:#6b7280}" +
    "label{display:block;margin:0 0 6px;font-weight:600}" +
    "textarea{width:100%;min-height:80px;resize:vertical;border:1px solid #d1d5db;border-radius:8px;padding:8px 10px;font:inherit;color:inherit;background:#fff}" +
    ".row{display:flex;justify-content:flex-end;gap:8px;margin-top:10px}" +
    ".b{border:1px solid var(--c);background:var(--c);color:#fff;border-radius:8px;padding:7px 14px;font-weight:600}" +
    ".b.ghost{background:#fff;color:#374151;border-color:#d1d5db}" +
    ".thanks{flex:1;margin:4px 0;font-size:15px;font-weight:600}" +
    ".err{margin:8px 0 0;color:#b91c1c;font-size:13px}.err:empty{display:none}" +
    "button:focus-visible,textarea:focus-visible,.thanks:focus-visible{outline:3px solid #93c5fd;outline-offset:2px}" +
    "@media (max-width:480px){.card:not(.inline){right:12px;bottom:12px;left:12px;width:auto}}";

  function load(name) {
    try { return JSON.parse(localStorage.getItem(KEY + name)); } catch (e) { return null; }
  }
  function save(name, value) {
    if (preview) return;
    try {
      if (value === null) localStorage.removeItem(KEY + name);
      else localStorage.setItem(KEY + name, JSON.stringify(value));
    } catch (e) {}
  }
  function newId() {
    if (crypto.randomUUID) return crypto.randomUUID();
    return Array.from(crypto.getRandomValues(new Uint8Array(16)), function (x) { return (x + 256).toString(16).slice(1); }).join("");
  }
  function el(tag, attrs, kids) {
    var n = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) {
      if (k === "text") n.textContent = attrs[k];
      else n.setAttribute(k, attrs[k]);
    });
    (kids || []).forEach(function (c) { n.appendChild(c); });
    return n;
  }
  function call(url, body) {
    return fetch(url, {
      method: body ? "POST" : "GET",
      headers: body && { "Content-Type": "application/json" },
      body: body && JSON.stringify(body),
      credentials: preview ? "same-origin" : "omit",
    }).then(function (r) {
      return r.json().catch(function () { return {}; }).then(function (j) { j.status = r.status; return j; });
    });
  }
  function glob(pattern) {
    var rx = pattern.trim().replace(/[.+^${}()|[\]\\]/g, "\\$&").replace(/\*/g, ".*").replace(/\?/g, ".");
    return new RegExp("^" + rx + "$");
  }
  function warn(reason) {
    console.info("CXM survey not shown: " + reason);
    // Says on the page that the widget decided not to ask, and why (the host site and tests can wait
    // for it instead of guessing how long "nothing appears" takes).
    script.setAttribute("data-cxm-skipped", reason || "unknown");
  }

  var visitor = load("visitor");
  if (!visitor) { visitor = newId(); save("visitor", visitor); }
  var saved = load("token");
  var later = "later" + (d.customer || ""); // per identity: signing in asks anew

  function start() {
    if (preview) return ask();
    call(base + key + "/show").then(function (cfg) {
      if (cfg.status !== 200) return warn(cfg.error);
      var seen = load("seen");
      if (seen && Date.now() - seen < cfg.recontact_days * DAY) return warn("asked recently");
      if (load(later) > Date.now()) return warn("not today");
      var rules = cfg.rules || {};
      if (rules.signed_in_only && !d.customer) return warn("signed_in_only");
      var paths = rules.paths || [];
      if (paths.length && !paths.some(function (p) { return glob(p).test(location.pathname); })) return warn("path");
      var resuming = saved && saved.exp > Date.now();
      setTimeout(ask, resuming ? 0 : (rules.delay_seconds || 0) * 1000);
    }, function () { warn("network"); });
  }

  function ask() {
    var body = { language: navigator.language || "", path: location.pathname };
    if (preview) body.preview = true;
    else {
      body.visitor = visitor;
      if (d.customer) { body.customer = d.customer; body.signature = d.signature || ""; }
      if (saved && saved.exp > Date.now()) body.token = saved.t;
    }
    call(base + key + "/show", body).then(function (s) {
      if (!s.show) {
        save(later, Date.now() + DAY); // refused: ask again tomorrow
        return warn(s.error || s.reason);
      }
      if (!preview) save("token", { t: s.token, exp: Date.now() + DAY });
      render(s);
    }, function () { warn("network"); });
  }

  function render(s) {
    var host = el("div", { "data-cxm-survey": key });
    var root = host.attachShadow({ mode: "open" });
    root.appendChild(el("style", { text: CSS }));
    var L = s.labels, qid = "q";
    var close = el("button", { type: "button", class: "x", "aria-label": L.close, text: "\u00d7" });
    var top = el("div", { class: "top" }, [el("p", { class: "q", id: qid, text: s.question }), close]);
    var body = el("div");
    var err = el("p", { class: "err", role: "alert" });
    var card = el("div", { class: "card" + (inline ? " inline" : ""), role: "dialog", "aria-labelledby": qid }, [top, body, err]);
    root.appendChild(card);
    (inline || document.body).appendChild(host);

    function forget() {
      save("seen", Date.now());
      save("token", null);
    }
    function dismiss() {
      forget();
      host.remove();
    }
    close.addEventListener("click", dismiss);
    card.addEventListener("keydown", function (e) { if (e.key === "Escape") dismiss(); });

    function post(data) {
      if (preview) return Promise.resolve({ status: 200 });
      data.token = s.token;
      // Scores: the batched endpoint.
      if (data.score == null) return call(base + "answer", data);
      data.medium = "widget";
      data.complete = !s.follow_up;
      return call(base + "../api/answers/", data);
    }
    function thanks() {
      forget();
      body.textContent = "";
      var t = el("p", { class: "thanks", id: qid, tabindex: "-1", role: "status", text: L.thanks });
      top.replaceChild(t, top.firstChild);
      t.focus();
      if (!inline) setTimeout(function () { host.remove(); }, 6000);
    }
    function commentStep() {
      body.textContent = "";
      var area = el("textarea", { id: "c", maxlength: "5000" });
      var send = el("button", { type: "button", class: "b", text: L.send });
      var skip = el("button", { type: "button", class: "b ghost", text: L.skip });
      body.appendChild(el("label", { for: "c", text: s.follow_up }));
      body.appendChild(area);
      body.appendChild(el("div", { class: "row" }, [skip, send]));
      area.focus();
      send.addEventListener("click", function () {
        send.disabled = true;
        err.textContent = "";
        function fail() { send.disabled = false; err.textContent = L.error; }
        post({ comment: area.value }).then(function (r) {
          if (r.status === 200 || r.status === 409) return thanks();
          fail();
        }, fail);
      });
      skip.addEventListener("click", function () {
        post({ comment: "" }).catch(function () {});
        thanks();
      });
    }

    var scale = el("div", { class: "scale" + (s.choices.length > 7 ? " many" : ""), role: "group", "aria-labelledby": qid });
    s.choices.forEach(function (c) {
      var btn = el("button", { type: "button", class: "s", "aria-label": c.description, text: c.label });
      btn.addEventListener("click", function () {
        btn.classList.add("on");
        var all = scale.querySelectorAll("button");
        function lock(on) { for (var i = 0; i < all.length; i++) all[i].disabled = on; }
        lock(true);
        err.textContent = "";
        post({ score: c.value }).then(function (r) {
          if (r.status === 200) return s.follow_up ? commentStep() : thanks();
          if (r.status === 409) return thanks();
          fail();
        }, fail);
        function fail() {
          btn.classList.remove("on");
          lock(false);
          err.textContent = L.error;
        }
      });
      scale.appendChild(btn);
    });
    body.appendChild(scale);
    body.appendChild(el("div", { class: "ends", "aria-hidden": "true" }, [el("span", { text: s.ends[0] }), el("span", { text: s.ends[1] })]));
  }

  // for the settings page's "Show again"
  if (preview) window.cxmSurveyPreview = ask;
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
