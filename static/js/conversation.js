/* The conversation page: live SMS segment count, WhatsApp window notice, and the thread kept current
 * from the app websocket (app.js dispatches `cxm:<type>` events on document). */
(function () {
  "use strict";

  // Same GSM 03.38 rule as channels_app/rules.py; the alphabet comes from the server so they cannot drift.
  function smsInfo(text, alphabet) {
    var basic = alphabet.basic, ext = alphabet.extension;
    var gsm = true, sizes = [];
    Array.from(text).forEach(function (ch) {
      if (basic.indexOf(ch) !== -1) sizes.push(1);
      else if (ext.indexOf(ch) !== -1) sizes.push(2);
      else gsm = false;
    });
    if (!gsm) sizes = Array.from(text).map(function (ch) { return ch.codePointAt(0) > 0xffff ? 2 : 1; });
    var encoding = gsm ? "GSM-7" : "UCS-2";
    var single = gsm ? 160 : 70, limit = gsm ? 153 : 67;
    var total = sizes.reduce(function (a, b) { return a + b; }, 0);
    if (total <= single) return { encoding: encoding, segments: total ? 1 : 0, chars: total };
    var segments = 1, used = 0;
    sizes.forEach(function (size) {
      if (used + size > limit) { segments += 1; used = 0; }
      used += size;
    });
    return { encoding: encoding, segments: segments, chars: total };
  }

  function refreshLimits(box) {
    var select = box.querySelector("[data-reply-channel]");
    var text = box.querySelector("[data-reply-text]");
    var counter = box.querySelector("[data-sms-counter]");
    var closed = box.querySelector("[data-wa-closed]");
    var open = box.querySelector("[data-wa-open]");
    var alphabetNode = box.querySelector("#sms-alphabet");
    if (!select || !text || !counter || !alphabetNode) return;
    var option = select.options[select.selectedIndex];
    var kind = option ? option.dataset.kind : "";
    counter.hidden = kind !== "sms";
    if (kind === "sms") {
      var info = smsInfo(text.value, JSON.parse(alphabetNode.textContent));
      counter.textContent = counter.dataset.label
        .replace("%(chars)s", info.chars).replace("%(segments)s", info.segments).replace("%(encoding)s", info.encoding);
      counter.dataset.segments = info.segments;
      counter.dataset.encoding = info.encoding;
    }
    var windowOpen = option ? option.dataset.windowOpen : undefined;
    closed.hidden = !(kind === "whatsapp" && windowOpen === "0");
    open.hidden = !(kind === "whatsapp" && windowOpen === "1");
  }

  // The template picker (loaded per channel by htmx): one set of variable inputs per template, only the
  // chosen one submitted, and the approved wording previewed with the agent's values filled in.
  function refreshTemplate(box) {
    var limits = box.querySelector("[data-accept]");
    var files = box.querySelector("[data-reply-files]");
    if (limits && files) {
      if (limits.dataset.accept) files.setAttribute("accept", limits.dataset.accept);
      else files.removeAttribute("accept");
    }
    var select = box.querySelector("[data-template-select]");
    var preview = box.querySelector("[data-template-preview]");
    if (!select || !preview) return;
    var chosen = select.value;
    box.querySelectorAll("[data-template-vars]").forEach(function (group) {
      var active = group.dataset.templateVars === chosen;
      group.hidden = !active;
      group.querySelectorAll("input").forEach(function (input) { input.disabled = !active; });
    });
    var option = select.options[select.selectedIndex];
    var body = option && option.dataset.body ? option.dataset.body : "";
    var group = box.querySelector("[data-template-vars='" + chosen + "']");
    preview.textContent = body.replace(/\{\{\s*(\d+)\s*\}\}/g, function (whole, n) {
      var input = group && group.querySelector("[data-template-var='" + n + "']");
      return input && input.value.trim() ? input.value : whole;
    });
  }

  function bind() {
    var box = document.getElementById("reply-box");
    if (box) { refreshLimits(box); refreshTemplate(box); }
  }

  document.addEventListener("input", function (event) {
    var box = event.target.closest && event.target.closest("#reply-box");
    if (box) { refreshLimits(box); refreshTemplate(box); }
  });
  document.addEventListener("change", function (event) {
    var box = event.target.closest && event.target.closest("#reply-box");
    if (box) { refreshLimits(box); refreshTemplate(box); }
  });

  // The newest message is what the agent answers: start the thread scrolled to its end.
  function scrollThread() {
    var thread = document.getElementById("thread");
    if (thread) thread.scrollTop = thread.scrollHeight;
  }

  document.addEventListener("DOMContentLoaded", function () { bind(); scrollThread(); });
  document.addEventListener("htmx:afterSettle", function (event) {
    bind();
    if (event.target && event.target.id === "thread") scrollThread();
  });
  // Loading earlier messages adds them above: keep the messages the agent was reading where they were.
  var keptFromBottom = null;
  document.addEventListener("htmx:beforeRequest", function (event) {
    var thread = document.getElementById("thread");
    if (thread && event.target.closest && event.target.closest("[data-thread-earlier]")) {
      keptFromBottom = thread.scrollHeight - thread.scrollTop;
    }
  });
  document.addEventListener("htmx:afterSettle", function () {
    var thread = document.getElementById("thread");
    if (thread && keptFromBottom !== null) {
      thread.scrollTop = thread.scrollHeight - keptFromBottom;
      keptFromBottom = null;
    }
  });
  document.addEventListener("htmx:oobAfterSwap", function (event) {
    if (event.target && event.target.id === "thread") scrollThread();
  });

  // Someone else's message or note on this conversation: fetch the thread again. The reply box keeps
  // its draft and its last-seen id, so a send after this still warns about the new reply.
  function onConversationEvent(event) {
    var page = document.getElementById("conversation");
    var detail = event.detail || {};
    if (!page || !window.htmx || String(detail.conversation_id) !== page.dataset.conversationId) return;
    // Nothing on screen disappears: ask for everything from the oldest message shown on.
    var url = page.dataset.threadUrl;
    var oldest = document.querySelector("#thread [data-message-id]");
    if (oldest) {
      url += "&since=" + encodeURIComponent(oldest.dataset.messageId);
    }
    window.htmx.ajax("GET", url, { target: "#thread", swap: "outerHTML" });
  }
  // The daily moves on a conversation (listed in the shortcuts overlay). Never while typing.
  document.addEventListener("keydown", function (event) {
    if (event.defaultPrevented || event.ctrlKey || event.metaKey || event.altKey) return;
    var target = event.target;
    if (target && (target.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName))) return;
    var dialog = document.getElementById("shortcuts-dialog");
    if (dialog && dialog.open) return;
    var element = null;
    if (event.key === "r") element = document.querySelector("[data-reply-text]");
    else if (event.key === "n") element = document.querySelector("[data-testid='note-body']");
    else if (event.key === "e") element = document.querySelector("[data-testid='status-resolved']");
    else if (event.key === "a") {
      var assignee = document.querySelector("[data-testid='assignee']");
      var me = assignee && assignee.querySelector("option[value='me']");
      if (me) {
        event.preventDefault();
        assignee.value = "me";
        assignee.dispatchEvent(new Event("change", { bubbles: true }));
      }
      return;
    }
    if (!element) return;
    event.preventDefault();
    if (element.tagName === "BUTTON") element.click();
    else element.focus();
  });

  // A canned response fills the reply box (its placeholders were filled on the server for this customer).
  document.addEventListener("click", function (event) {
    var item = event.target.closest("[data-canned-text]");
    if (!item) return;
    var box = document.querySelector("[data-reply-text]");
    if (!box) return;
    box.value = item.getAttribute("data-canned-text");
    box.dispatchEvent(new Event("input", { bubbles: true }));
    var picker = item.closest("details");
    if (picker) picker.open = false;
    box.focus();
  });
  document.addEventListener("cxm:message.created", onConversationEvent);
  document.addEventListener("cxm:note.created", onConversationEvent);
  // A reply sent, delivered or failed: the thread shows its new state (a failure with its reason).
  document.addEventListener("cxm:message.status", onConversationEvent);
})();
