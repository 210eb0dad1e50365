/*
 * CXM application shell: the live-updates socket, toasts, keyboard shortcuts and small enhancements.
 * Pages work without this file; it only adds realtime updates and conveniences on top.
 *
 * Later features subscribe to server events with either
 *   document.addEventListener("cxm:message.created", (e) => e.detail ...)
 * or
 *   window.cxm.on("message.created", (payload) => ...)
 */
(function () {
  "use strict";

  var HEARTBEAT_MS = 25000;
  var BACKOFF_BASE_MS = 1000;
  var BACKOFF_CAP_MS = 30000;
  var SEQUENCE_TIMEOUT_MS = 1500;
  var CLOSE_UNAUTHENTICATED = 4401;
  // A login page that bounces straight back (e.g. a cookie the socket cannot see) must not loop forever.
  var LOGIN_REDIRECT_GUARD_MS = 60000;
  var LOGIN_REDIRECT_KEY = "cxm:ws-login-redirect-at";

  var cxm = (window.cxm = window.cxm || {});
  cxm.state = "offline";
  cxm.socket = null;

  cxm.on = function (type, fn) {
    var handler = function (event) {
      fn(event.detail, event);
    };
    document.addEventListener("cxm:" + type, handler);
    return function off() {
      document.removeEventListener("cxm:" + type, handler);
    };
  };

  cxm.send = function (message) {
    var socket = cxm.socket;
    if (!socket || socket.readyState !== WebSocket.OPEN) return false;
    socket.send(JSON.stringify(message));
    return true;
  };

  function emit(type, detail) {
    document.dispatchEvent(new CustomEvent("cxm:" + type, { detail: detail }));
  }

  /* ---- Connection status indicator ------------------------------------------------------------ */

  function renderStatus(state, labelKey) {
    var el = document.querySelector('[data-testid="ws-status"]');
    if (!el) return;
    el.setAttribute("data-state", state);
    var label = el.getAttribute("data-label-" + (labelKey || state)) || state;
    var text = el.querySelector(".ws-label");
    if (text) text.textContent = label;
  }

  function setState(state, labelKey) {
    var changed = cxm.state !== state;
    cxm.state = state;
    renderStatus(state, labelKey);
    if (changed) emit("socket.state", { state: state });
  }

  /* ---- Realtime socket ------------------------------------------------------------------------ */

  function startSocket(path, loginUrl) {
    var scheme = window.location.protocol === "https:" ? "wss://" : "ws://";
    var url = scheme + window.location.host + path;
    var attempt = 0;
    var retryTimer = null;
    var heartbeatTimer = null;
    var pingSentAt = null;
    var stopped = false;
    var everConnected = false;

    function backoffDelay() {
      // Exponential backoff with "equal jitter": spreads reconnects after a server restart.
      var ceiling = Math.min(BACKOFF_CAP_MS, BACKOFF_BASE_MS * Math.pow(2, attempt));
      return ceiling / 2 + Math.random() * (ceiling / 2);
    }

    function clearRetry() {
      if (retryTimer !== null) {
        clearTimeout(retryTimer);
        retryTimer = null;
      }
    }

    function stopHeartbeat() {
      if (heartbeatTimer !== null) {
        clearInterval(heartbeatTimer);
        heartbeatTimer = null;
      }
      pingSentAt = null;
    }

    function startHeartbeat() {
      stopHeartbeat();
      heartbeatTimer = setInterval(function () {
        // No answer to the previous ping within a whole interval: the connection is silently dead
        // (sleeping laptop, dropped NAT entry), which the browser may not notice for minutes.
        if (pingSentAt !== null && Date.now() - pingSentAt >= HEARTBEAT_MS) {
          dropSocket();
          return;
        }
        pingSentAt = Date.now();
        cxm.send({ type: "ping", ts: pingSentAt });
      }, HEARTBEAT_MS);
    }

    function scheduleReconnect() {
      clearRetry();
      if (stopped) return;
      if (navigator.onLine === false) {
        // Wait for the "online" event instead of burning attempts while there is no network.
        setState("offline");
        return;
      }
      setState("reconnecting");
      var delay = backoffDelay();
      attempt += 1;
      retryTimer = setTimeout(connect, delay);
    }

    function dropSocket() {
      var socket = cxm.socket;
      cxm.socket = null;
      stopHeartbeat();
      if (socket) {
        try {
          socket.close();
        } catch (e) {
          /* already closing */
        }
      }
      scheduleReconnect();
    }

    function redirectToLogin() {
      stopped = true;
      setState("offline");
      var last = Number(window.sessionStorage && sessionStorage.getItem(LOGIN_REDIRECT_KEY));
      if (last && Date.now() - last < LOGIN_REDIRECT_GUARD_MS) return;
      try {
        sessionStorage.setItem(LOGIN_REDIRECT_KEY, String(Date.now()));
      } catch (e) {
        /* storage disabled: redirect anyway */
      }
      var next = window.location.pathname + window.location.search;
      window.location.assign(loginUrl + "?next=" + encodeURIComponent(next));
    }

    function handleMessage(raw) {
      var message;
      try {
        message = JSON.parse(raw);
      } catch (e) {
        return;
      }
      if (!message || typeof message.type !== "string") return;
      pingSentAt = null; // any traffic proves the connection is alive
      if (message.type === "hello") {
        try {
          sessionStorage.removeItem(LOGIN_REDIRECT_KEY);
        } catch (e) {
          /* ignore */
        }
      }
      emit(message.type, Object.prototype.hasOwnProperty.call(message, "payload") ? message.payload : message);
    }

    function connect() {
      clearRetry();
      if (stopped) return;
      var current = cxm.socket;
      if (current && (current.readyState === WebSocket.OPEN || current.readyState === WebSocket.CONNECTING)) {
        return;
      }
      setState("reconnecting", everConnected ? "reconnecting" : "connecting");
      var socket;
      try {
        socket = new WebSocket(url);
      } catch (e) {
        scheduleReconnect();
        return;
      }
      cxm.socket = socket;

      socket.addEventListener("open", function () {
        if (cxm.socket !== socket) return;
        attempt = 0;
        everConnected = true;
        setState("connected");
        startHeartbeat();
      });

      socket.addEventListener("message", function (event) {
        if (cxm.socket !== socket) return;
        handleMessage(event.data);
      });

      socket.addEventListener("close", function (event) {
        if (cxm.socket !== socket) return; // a socket we already replaced
        cxm.socket = null;
        stopHeartbeat();
        if (event.code === CLOSE_UNAUTHENTICATED) {
          redirectToLogin();
          return;
        }
        scheduleReconnect();
      });
      // "error" is always followed by "close", which does the bookkeeping.
    }

    function reconnectNow() {
      if (stopped) return;
      var current = cxm.socket;
      if (current && current.readyState === WebSocket.OPEN) {
        // The socket survived a network blip; probe it now instead of waiting for the next heartbeat.
        setState("connected");
        pingSentAt = Date.now();
        cxm.send({ type: "ping", ts: pingSentAt });
        return;
      }
      if (current && current.readyState === WebSocket.CONNECTING) return;
      attempt = 0;
      connect();
    }

    document.addEventListener("visibilitychange", function () {
      if (document.visibilityState === "visible") reconnectNow();
    });
    window.addEventListener("online", reconnectNow);
    window.addEventListener("offline", function () {
      clearRetry();
      setState("offline");
    });
    window.addEventListener("pagehide", function () {
      // Leaving the page: close cleanly so the server frees the channel right away.
      stopped = true;
      clearRetry();
      stopHeartbeat();
      if (cxm.socket) cxm.socket.close(1000);
    });
    window.addEventListener("pageshow", function (event) {
      // Restored from the back/forward cache after pagehide closed the socket.
      if (event.persisted) {
        stopped = false;
        reconnectNow();
      }
    });

    cxm.reconnect = reconnectNow;
    connect();
  }

  /* ---- Toasts --------------------------------------------------------------------------------- */

  var TOAST_AUTOHIDE_MS = 8000;

  function dismissToast(toast) {
    if (toast && toast.parentNode) toast.parentNode.removeChild(toast);
  }

  function armToast(toast) {
    // Errors and warnings stay until dismissed: they usually need reading twice.
    if (toast.classList.contains("toast--success") || toast.classList.contains("toast--info")) {
      setTimeout(function () {
        dismissToast(toast);
      }, TOAST_AUTOHIDE_MS);
    }
  }

  cxm.toast = function (text, level) {
    var container = document.querySelector('[data-testid="toasts"]');
    if (!container) return;
    var toast = document.createElement("div");
    var known = { success: 1, info: 1, warning: 1, error: 1 };
    toast.className = "toast toast--" + (known[level] ? level : "info");
    toast.setAttribute("data-toast", "");
    var span = document.createElement("span");
    span.className = "toast-text";
    span.textContent = text;
    var close = document.createElement("button");
    close.type = "button";
    close.className = "toast-close";
    close.setAttribute("data-dismiss", "");
    var dismissLabel = container.getAttribute("data-label-dismiss") || "Dismiss";
    close.setAttribute("title", dismissLabel);
    close.setAttribute("aria-label", dismissLabel);
    close.textContent = "\u00d7";
    toast.appendChild(span);
    toast.appendChild(close);
    container.appendChild(toast);
    armToast(toast);
  };

  /* ---- Relative times ------------------------------------------------------------------------- */

  var RELATIVE_STEPS = [
    ["second", 60],
    ["minute", 60],
    ["hour", 24],
    ["day", 7],
  ];

  function formatRelative(date, formatter) {
    var seconds = (date.getTime() - Date.now()) / 1000;
    var value = seconds;
    for (var i = 0; i < RELATIVE_STEPS.length; i++) {
      var unit = RELATIVE_STEPS[i][0];
      var size = RELATIVE_STEPS[i][1];
      if (Math.abs(value) < size) {
        if (unit === "second") return formatter.format(0, "second"); // "now"
        return formatter.format(Math.round(value), unit);
      }
      value = value / size;
    }
    return null; // older than a week: the server-rendered date is clearer
  }

  function updateRelativeTimes(root) {
    if (!window.Intl || !Intl.RelativeTimeFormat) return;
    var lang = document.documentElement.lang || undefined;
    var formatter = new Intl.RelativeTimeFormat(lang, { numeric: "auto" });
    (root || document).querySelectorAll("time[data-relative]").forEach(function (el) {
      if (!el.hasAttribute("data-absolute")) el.setAttribute("data-absolute", el.textContent);
      var date = new Date(el.getAttribute("datetime"));
      if (isNaN(date.getTime())) return;
      el.textContent = formatRelative(date, formatter) || el.getAttribute("data-absolute");
    });
  }

  /* ---- Keyboard shortcuts --------------------------------------------------------------------- */

  var GO_TARGETS = { i: "inbox", c: "customers", s: "surveys", d: "dashboards" };

  function isTyping(target) {
    if (!target || !target.tagName) return false;
    var tag = target.tagName.toLowerCase();
    return tag === "input" || tag === "textarea" || tag === "select" || target.isContentEditable;
  }

  function openShortcutHelp() {
    var dialog = document.getElementById("shortcuts-dialog");
    if (!dialog || dialog.open) return;
    if (typeof dialog.showModal === "function") dialog.showModal();
    else dialog.setAttribute("open", "");
  }

  function installShortcuts() {
    var pendingG = false;
    var pendingTimer = null;

    document.addEventListener("keydown", function (event) {
      if (event.defaultPrevented || event.ctrlKey || event.metaKey || event.altKey) return;
      if (isTyping(event.target)) return;
      var dialog = document.getElementById("shortcuts-dialog");
      if (dialog && dialog.open) return; // Esc and Tab belong to the dialog while it is open

      var key = event.key;
      if (pendingG) {
        pendingG = false;
        clearTimeout(pendingTimer);
        var target = GO_TARGETS[key && key.toLowerCase()];
        var link = target && document.querySelector('a[data-nav="' + target + '"]');
        if (link) {
          event.preventDefault();
          window.location.assign(link.href);
        }
        return;
      }
      if (key === "g") {
        pendingG = true;
        pendingTimer = setTimeout(function () {
          pendingG = false;
        }, SEQUENCE_TIMEOUT_MS);
        return;
      }
      if (key === "?") {
        event.preventDefault();
        openShortcutHelp();
        return;
      }
      if (key === "/") {
        var search = document.querySelector("[data-shortcut-search]");
        if (search) {
          event.preventDefault();
          search.focus();
          search.select();
        }
      }
    });
  }

  /* ---- Small enhancements --------------------------------------------------------------------- */

  function copyText(text) {
    if (navigator.clipboard && window.isSecureContext) return navigator.clipboard.writeText(text);
    // Plain-http installs (embedded mode on a LAN) have no async clipboard; fall back to execCommand.
    return new Promise(function (resolve, reject) {
      var area = document.createElement("textarea");
      area.value = text;
      area.setAttribute("readonly", "");
      area.style.position = "fixed";
      area.style.opacity = "0";
      document.body.appendChild(area);
      area.select();
      var ok = false;
      try {
        ok = document.execCommand("copy");
      } catch (e) {
        ok = false;
      }
      document.body.removeChild(area);
      if (ok) resolve();
      else reject(new Error("copy failed"));
    });
  }

  function installClickHandlers() {
    document.addEventListener("click", function (event) {
      var target = event.target instanceof Element ? event.target : null;
      if (!target) return;

      var dismiss = target.closest("[data-dismiss]");
      if (dismiss) {
        dismissToast(dismiss.closest("[data-toast]"));
        return;
      }

      var copy = target.closest("[data-copy]");
      if (copy) {
        var source = document.getElementById(copy.getAttribute("data-copy"));
        if (!source) return;
        var label = copy.querySelector("[data-copy-label]");
        var original = label ? label.textContent : "";
        copyText(source.value || source.textContent).then(
          function () {
            if (!label) return;
            label.textContent = copy.getAttribute("data-label-copied") || original;
            setTimeout(function () {
              label.textContent = original;
            }, 2000);
          },
          function () {
            source.focus();
            if (source.select) source.select();
          }
        );
        return;
      }

      if (target.closest("[data-shortcuts-open]")) openShortcutHelp();
    });

    document.addEventListener("change", function (event) {
      var select = event.target;
      if (!(select instanceof HTMLSelectElement) || !select.hasAttribute("data-autosubmit")) return;
      var form = select.form;
      if (!form) return;
      if (typeof form.requestSubmit === "function") form.requestSubmit();
      else form.submit();
    });
  }

  /* ---- Start ---------------------------------------------------------------------------------- */

  /* Desktop notifications for notices that point somewhere (a conversation assigned to you), shown
     only while the tab is in the background: in front, the toast says it already. The browser asks
     for permission only after the agent clicks "Notify me". */
  function installDesktopNotifications() {
    var button = document.querySelector("[data-enable-notifications]");
    if (!button || !("Notification" in window) || Notification.permission !== "default") return;
    button.hidden = false;
    button.addEventListener("click", function () {
      Notification.requestPermission().then(function () {
        button.hidden = true;
      });
    });
  }

  function desktopNotify(payload) {
    if (!payload || !payload.url || !payload.text || !("Notification" in window)) return;
    if (Notification.permission !== "granted" || !document.hidden) return;
    var note = new Notification(payload.text, { tag: payload.url });
    note.onclick = function () {
      window.focus();
      window.location.assign(payload.url);
      note.close();
    };
  }

  function init() {
    installClickHandlers();
    installShortcuts();
    document.querySelectorAll("[data-toast]").forEach(armToast);
    updateRelativeTimes(document);
    setInterval(updateRelativeTimes, 60000);
    document.addEventListener("htmx:afterSwap", function (event) {
      updateRelativeTimes(event.target);
    });
    cxm.on("system.notice", function (payload) {
      if (payload && payload.text) cxm.toast(payload.text, payload.level);
      desktopNotify(payload);
    });
    installDesktopNotifications();

    var path = document.body.getAttribute("data-ws-path");
    if (path && "WebSocket" in window) {
      startSocket(path, document.body.getAttribute("data-login-url") || "/accounts/login/");
    }
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
