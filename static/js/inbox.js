/*
 * The inbox list: live rows from the app socket, j/k keyboard navigation, filters that apply on change.
 * Without this file the list still works: filters have a submit button and "Load more" is a link.
 */
(function () {
  "use strict";

  var list = null;
  var pending = {}; // conversation id -> true while its row is being fetched

  function rows() {
    return Array.prototype.slice.call(list.querySelectorAll("[data-testid='inbox-row']"));
  }

  function rowUrl(id) {
    var base = list.getAttribute("data-row-url").replace(/0\/$/, id + "/");
    var query = list.getAttribute("data-query");
    return query ? base + "?" + query : base;
  }

  function setEmpty() {
    var empty = document.querySelector("[data-testid='inbox-empty']");
    if (empty) empty.hidden = rows().length > 0;
  }

  function findRow(id) {
    return list.querySelector("[data-testid='inbox-row'][data-conversation-id='" + id + "']");
  }

  /* ---- Live updates ------------------------------------------------------------------------- */

  function refreshRow(id, bringToTop) {
    if (!id || pending[id]) return;
    pending[id] = true;
    fetch(rowUrl(id), { credentials: "same-origin", headers: { "HX-Request": "true" } })
      .then(function (response) {
        var existing = findRow(id);
        // 204: still visible but no longer in this view (status changed, reassigned); 404: not ours.
        if (response.status === 204 || response.status === 404) {
          if (existing) existing.remove();
          setEmpty();
          return null;
        }
        if (!response.ok) return null;
        return response.text().then(function (html) {
          var holder = document.createElement("template");
          holder.innerHTML = html.trim();
          var row = holder.content.firstElementChild;
          // A signed-out session answers with the login page (after a redirect), not a row.
          if (!row || !row.matches("[data-testid='inbox-row']")) return;
          var hadFocus = existing && existing.contains(document.activeElement);
          if (existing && !bringToTop) {
            existing.replaceWith(row);
          } else {
            if (existing) existing.remove();
            list.insertBefore(row, list.firstElementChild);
          }
          row.classList.add("is-fresh");
          row.addEventListener("animationend", function () {
            row.classList.remove("is-fresh");
          });
          if (hadFocus) focusRow(row);
          setEmpty();
          // app.js turns <time data-relative> into "2 minutes ago" for whatever htmx swapped in.
          row.dispatchEvent(new CustomEvent("htmx:afterSwap", { bubbles: true }));
        });
      })
      .catch(function () {
        /* a dropped request: the next event or a reload brings the row */
      })
      .then(function () {
        delete pending[id];
      });
  }

  function onEvent(event) {
    var payload = event.detail || {};
    // Other sort orders keep their place: only "last activity" puts the newest on top.
    refreshRow(payload.conversation_id, list.getAttribute("data-sort") === "activity");
  }

  /* ---- Keyboard ----------------------------------------------------------------------------- */

  function isTyping(target) {
    if (!target || !target.tagName) return false;
    var tag = target.tagName.toLowerCase();
    return tag === "input" || tag === "textarea" || tag === "select" || target.isContentEditable;
  }

  function currentIndex(all) {
    for (var i = 0; i < all.length; i++) {
      if (all[i].contains(document.activeElement)) return i;
    }
    return -1;
  }

  function focusRow(row) {
    var link = row && row.querySelector("[data-row-link]");
    if (!link) return;
    link.focus();
    row.scrollIntoView({ block: "nearest" });
  }

  function onKeydown(event) {
    if (event.defaultPrevented || event.ctrlKey || event.metaKey || event.altKey) return;
    if (isTyping(event.target)) return;
    var dialog = document.getElementById("shortcuts-dialog");
    if (dialog && dialog.open) return;
    var all = rows();
    if (!all.length) return;
    var index = currentIndex(all);
    if (event.key === "j" || event.key === "k") {
      event.preventDefault();
      var next = event.key === "j" ? Math.min(index + 1, all.length - 1) : Math.max(index - 1, 0);
      if (index === -1) next = 0;
      focusRow(all[next]);
    } else if (event.key === "o" && index !== -1) {
      event.preventDefault();
      all[index].querySelector("[data-row-link]").click();
    }
    // Enter on the focused link opens it natively.
  }

  /* ---- Filters and pages -------------------------------------------------------------------- */

  function dropDuplicateRows() {
    // A row moved to the top live may come again with the next page: keep the first (newest) one.
    var seen = {};
    rows().forEach(function (row) {
      var id = row.getAttribute("data-conversation-id");
      if (seen[id]) row.remove();
      seen[id] = true;
    });
  }

  /* ---- Saved views -------------------------------------------------------------------------- */

  function initSavedViews() {
    var popovers = document.querySelectorAll(".inbox-popover");
    popovers.forEach(function (details) {
      details.addEventListener("toggle", function () {
        if (!details.open) return;
        // One panel at a time, and the first field ready to type in.
        popovers.forEach(function (other) {
          if (other !== details) other.open = false;
        });
        var field = details.querySelector("input:not([type='hidden']), select");
        if (field) field.focus();
      });
      details.addEventListener("keydown", function (event) {
        if (event.key !== "Escape" || !details.open) return;
        event.preventDefault();
        details.open = false;
        details.querySelector("summary").focus();
      });
    });
    document.addEventListener("click", function (event) {
      popovers.forEach(function (details) {
        if (details.open && !details.contains(event.target)) details.open = false;
      });
    });
    document.querySelectorAll("form[data-confirm]").forEach(function (form) {
      form.addEventListener("submit", function (event) {
        if (!window.confirm(form.getAttribute("data-confirm"))) event.preventDefault();
      });
    });
  }

  function init() {
    list = document.querySelector("[data-testid='conversation-list']");
    if (!list) return;
    if (list.hasAttribute("data-live")) {
      document.addEventListener("cxm:conversation.created", onEvent);
      document.addEventListener("cxm:message.created", onEvent);
    }
    document.addEventListener("keydown", onKeydown);
    document.addEventListener("htmx:afterSettle", dropDuplicateRows);
    document.querySelectorAll("[data-autosubmit]").forEach(function (select) {
      select.addEventListener("change", function () {
        if (select.form) select.form.requestSubmit ? select.form.requestSubmit() : select.form.submit();
      });
    });
    initSavedViews();
    var form = document.querySelector("[data-testid='inbox-filters']");
    if (form) {
      form.addEventListener("submit", function () {
        // "Any …" and the default sort add nothing to the address: bookmarks stay short and readable.
        Array.prototype.forEach.call(form.elements, function (field) {
          if (field.tagName === "SELECT" && (!field.value || field.value === "activity")) field.disabled = true;
        });
      });
    }
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
