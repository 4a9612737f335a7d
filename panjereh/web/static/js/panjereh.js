/* Panjereh's small script. Every page works without it (plain forms and links); with it:
   no double submit, picking an HS code from the search, focus after a partial update, and the
   province that follows the customs office. No inline scripts, no eval: the CSP forbids both. */
(function () {
  "use strict";

  // Disable a form's buttons once it is submitted. Deferred, so the browser (or htmx) has
  // already read which button was pressed; a server-side idempotency key makes a second
  // submit harmless anyway.
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!(form instanceof HTMLFormElement) || !form.hasAttribute("data-once")) return;
    if (form.hasAttribute("hx-post") && window.htmx) return; // htmx disables its own (hx-disabled-elt)
    window.setTimeout(function () {
      form.querySelectorAll("button[type=submit], button:not([type])").forEach(function (b) {
        b.disabled = true;
        b.setAttribute("aria-disabled", "true");
      });
    }, 0);
  });

  // Pick a code from the HS search results: fill the field, and the description if empty.
  document.addEventListener("click", function (event) {
    var pick = event.target instanceof Element ? event.target.closest(".hs-pick") : null;
    if (!pick) return;
    var input = document.getElementById(pick.getAttribute("data-fill") || "");
    if (!input) return;
    input.value = pick.getAttribute("data-code") || "";
    var description = document.getElementById(input.id.replace(/hs_code$/, "description"));
    if (description && !description.value) description.value = pick.getAttribute("data-description") || "";
    var results = document.getElementById(input.id + "-results");
    if (results) results.innerHTML = "";
    announce(input.value);
    (description || input).focus();
  });

  // Arrow keys move between the HS field and its results; Escape closes them.
  document.addEventListener("keydown", function (event) {
    var el = event.target;
    if (!(el instanceof HTMLElement)) return;
    var input = el.hasAttribute("data-hs-input") ? el : null;
    var pick = el.closest(".hs-pick");
    var list = input ? document.getElementById(input.id + "-results") : el.closest(".hs-results");
    if (!list) return;
    var picks = Array.prototype.slice.call(list.querySelectorAll(".hs-pick"));
    if (event.key === "Escape") {
      list.innerHTML = "";
      if (pick) document.getElementById(list.id.replace(/-results$/, "")).focus();
      return;
    }
    if (!picks.length || (event.key !== "ArrowDown" && event.key !== "ArrowUp")) return;
    event.preventDefault();
    var at = pick ? picks.indexOf(pick) : -1;
    var next = event.key === "ArrowDown" ? at + 1 : at - 1;
    if (next < 0) {
      document.getElementById(list.id.replace(/-results$/, "")).focus();
    } else {
      picks[Math.min(next, picks.length - 1)].focus();
    }
  });

  // The customs office decides the province, unless the trader chose another one.
  document.addEventListener("change", function (event) {
    var select = event.target;
    if (!(select instanceof HTMLSelectElement) || !select.hasAttribute("data-sets-province")) return;
    var province = document.getElementById(select.getAttribute("data-sets-province"));
    var option = select.options[select.selectedIndex];
    if (province && option && option.getAttribute("data-province")) {
      province.value = option.getAttribute("data-province");
    }
  });

  // After a partial update, put focus where the server asked (a new item row, the check, or
  // the error summary), so keyboard and screen-reader users land on what changed.
  function focusRequested(root) {
    var holder = root && root.querySelector ? (root.matches("[data-focus]") ? root : root.querySelector("[data-focus]")) : null;
    if (!holder) return;
    var target = document.getElementById(holder.getAttribute("data-focus"));
    if (target) {
      if (!target.hasAttribute("tabindex") && !/^(INPUT|SELECT|TEXTAREA|BUTTON|A)$/.test(target.tagName)) {
        target.setAttribute("tabindex", "-1");
      }
      target.focus();
    }
  }
  document.addEventListener("htmx:afterSwap", function (event) {
    var target = event.detail && event.detail.elt;
    if (target && target.id && /-results$/.test(target.id)) return; // typing continues in the field
    focusRequested(document.getElementById("declaration-form") || document.body);
    var heading = document.querySelector("#decision h2");
    if (target && target.id === "decision" && heading) heading.focus();
  });

  function announce(text) {
    var live = document.getElementById("live");
    if (live) live.textContent = text;
  }

  document.addEventListener("DOMContentLoaded", function () {
    var form = document.getElementById("declaration-form");
    if (form && form.getAttribute("data-focus") && form.getAttribute("data-focus") !== "items-0-hs_code") {
      focusRequested(form);
    }
  });
})();
