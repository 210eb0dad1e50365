/* Conversation presence: tell the server this page has the conversation open (join, heartbeat every
 * 15 s, leave on unload), report typing in the reply box at most every 3 s, and show "Also here" and
 * "… is typing" from the `cxm:presence` events app.js dispatches. Labels come translated from the page. */
(function () {
  "use strict";

  var HEARTBEAT_MS = 15000;
  var TYPING_THROTTLE_MS = 3000;

  function init() {
    var page = document.getElementById("conversation");
    var box = document.querySelector("[data-presence]");
    var cxm = window.cxm;
    if (!page || !box || !cxm || typeof cxm.send !== "function") return;
    var id = Number(page.dataset.conversationId);
    var viewersEl = box.querySelector("[data-presence-viewers]");
    var typingEl = document.querySelector("[data-presence-typing]");
    var lastTyping = 0;
    var left = false;

    function send(type) {
      return cxm.send({ type: type, conversation: id });
    }

    function join() {
      left = false;
      send("presence.join");
    }

    function names(people) {
      return people.map(function (p) { return p.name; }).join(", ");
    }

    function render(detail) {
      var viewers = detail.viewers || [];
      var typing = detail.typing || [];
      viewersEl.textContent = "";
      viewers.forEach(function (person) {
        var avatar = document.createElement("span");
        avatar.className = "avatar avatar--sm presence-avatar";
        avatar.setAttribute("data-user-id", String(person.id));
        avatar.setAttribute("title", person.name);
        avatar.textContent = person.initials;
        var label = document.createElement("span");
        label.className = "visually-hidden";
        label.textContent = person.name;
        avatar.appendChild(label);
        viewersEl.appendChild(avatar);
      });
      box.hidden = viewers.length === 0;
      if (typingEl) {
        var template = typing.length > 1 ? typingEl.dataset.labelMany : typingEl.dataset.labelOne;
        typingEl.textContent = typing.length ? template.replace("%(names)s", names(typing)) : "";
        typingEl.hidden = typing.length === 0;
      }
    }

    cxm.on("presence", function (detail) {
      if (detail && Number(detail.conversation) === id) render(detail);
    });
    // Joined again on every (re)connect: a new socket starts with no groups.
    cxm.on("socket.state", function (detail) {
      if (detail && detail.state === "connected" && !left) join();
    });
    if (cxm.state === "connected") join();

    setInterval(function () {
      if (!left && document.visibilityState !== "hidden") send("presence.heartbeat");
    }, HEARTBEAT_MS);

    document.addEventListener("input", function (event) {
      var target = event.target;
      if (!target || !target.closest || !target.closest("#reply-box [data-reply-text]")) return;
      var now = Date.now();
      if (now - lastTyping < TYPING_THROTTLE_MS) return;
      lastTyping = now;
      send("typing");
    });

    function leave() {
      if (left) return;
      left = true;
      send("presence.leave");
    }
    // Capture phase: runs before app.js's own pagehide handler closes the socket.
    window.addEventListener("pagehide", leave, true);
    window.addEventListener("pageshow", function (event) {
      if (event.persisted) left = false; // back/forward cache: app.js reconnects, which joins again
    });
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
