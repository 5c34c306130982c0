// flowdesk: small page behaviours that need no framework. Loaded on every page.
(function () {
  "use strict";
  function showError() {
    var box = document.getElementById("htmx-error");
    if (box) { box.hidden = false; }
  }
  document.addEventListener("htmx:responseError", showError);
  document.addEventListener("htmx:sendError", showError);

  // Switching the language reloads the page, which would lose what was typed. Just
  // before a language link is followed, the page's forms go to sessionStorage (this tab
  // only); the page that comes back at the same path fills them in again and forgets
  // them at once. Passwords, hidden fields (the CSRF token) and files are never kept.
  var STASH_KEY = "flowdesk.form-stash";
  var SKIPPED = { hidden: true, password: true, file: true, submit: true, button: true, reset: true, image: true };

  function fieldsOf(form) {
    return Array.prototype.filter.call(form.elements, function (el) {
      return el.name && !SKIPPED[el.type] && !el.disabled;
    });
  }

  function stashForms() {
    var forms = Array.prototype.map.call(document.forms, function (form) {
      return {
        action: form.getAttribute("action") || "",
        fields: fieldsOf(form).map(function (el) {
          if (el.type === "radio" || el.type === "checkbox") {
            return { name: el.name, value: el.value, checked: el.checked };
          }
          return { name: el.name, value: el.value };
        })
      };
    });
    try {
      sessionStorage.setItem(STASH_KEY, JSON.stringify({ path: location.pathname, forms: forms }));
    } catch (e) { /* storage full or disabled: switch anyway */ }
  }

  function restoreForms() {
    var raw = null;
    try {
      raw = sessionStorage.getItem(STASH_KEY);
      sessionStorage.removeItem(STASH_KEY);
    } catch (e) { return; }
    if (!raw) { return; }
    var stash;
    try { stash = JSON.parse(raw); } catch (e) { return; }
    if (!stash || stash.path !== location.pathname || !Array.isArray(stash.forms)) { return; }
    var changed = [];
    stash.forms.forEach(function (saved, index) {
      var form = document.forms[index];
      if (!form || (form.getAttribute("action") || "") !== saved.action) { return; }
      var fields = fieldsOf(form);
      var used = [];
      (saved.fields || []).forEach(function (s) {
        for (var i = 0; i < fields.length; i++) {
          var el = fields[i];
          if (used.indexOf(el) >= 0 || el.name !== s.name) { continue; }
          if (el.type === "radio" || el.type === "checkbox") {
            if (el.value !== s.value) { continue; }
            el.checked = !!s.checked;
          } else {
            el.value = s.value;
          }
          used.push(el);
          changed.push(el);
          return;
        }
      });
    });
    // Let HTMX (the amount-in-capitals preview) and Alpine see the values, after they
    // have started.
    setTimeout(function () {
      changed.forEach(function (el) {
        el.dispatchEvent(new Event("input", { bubbles: true }));
        el.dispatchEvent(new Event("change", { bubbles: true }));
      });
    }, 0);
  }

  // The new-ticket form's fields are redrawn by the server after each change (ADR 0031).
  // What the person typed while a redraw was on its way would be lost under it, and the
  // focus with it: both are carried over, and a kept value asks for another redraw.
  var LIVE = "form-fields";
  var sentValues = null;
  var carried = null;
  function typedValues(block) {
    var values = {};
    Array.prototype.forEach.call(block.querySelectorAll("input[name], textarea[name], select[name]"), function (el) {
      if (!SKIPPED[el.type] && el.type !== "radio" && el.type !== "checkbox") { values[el.name] = el.value; }
    });
    return values;
  }
  document.addEventListener("htmx:beforeRequest", function (event) {
    if (event.detail.elt.id === LIVE) { sentValues = typedValues(event.detail.elt); }
  });
  document.addEventListener("htmx:beforeSwap", function (event) {
    var block = event.detail.elt;
    if (block.id !== LIVE || !sentValues) { return; }
    var now = typedValues(block);
    var kept = {};
    Object.keys(now).forEach(function (name) {
      if (now[name] !== sentValues[name]) { kept[name] = now[name]; }
    });
    var active = document.activeElement;
    carried = { kept: kept, focus: active && block.contains(active) ? active.id : "" };
    sentValues = null;
  });
  document.addEventListener("htmx:afterSettle", function () {
    var block = document.getElementById(LIVE);
    if (!carried || !block) { return; }
    var kept = carried.kept;
    var focus = carried.focus ? document.getElementById(carried.focus) : null;
    carried = null;
    var names = Object.keys(kept);
    Array.prototype.forEach.call(block.querySelectorAll("input[name], textarea[name], select[name]"), function (el) {
      if (names.indexOf(el.name) >= 0 && el.type !== "radio" && el.type !== "checkbox") { el.value = kept[el.name]; }
    });
    if (focus) { focus.focus(); }
    if (names.length && window.htmx) { window.htmx.trigger(block, "change"); }
  });

  document.addEventListener("click", function (event) {
    var link = event.target.closest && event.target.closest(".locale-switch a[href]");
    if (link) { stashForms(); }
  });

  // The form's fields are re-rendered by the server when a value changes (ADR 0031, 0036).
  // A person already typing in the next field would lose what they typed since the
  // request left: the text field they are in keeps its value and its focus across the swap.
  var typing = null;
  document.addEventListener("htmx:beforeSwap", function (event) {
    var el = document.activeElement;
    typing = null;
    if (el && el.name && event.detail.target && event.detail.target.contains(el) &&
        (el.tagName === "TEXTAREA" || (el.tagName === "INPUT" && !SKIPPED[el.type] &&
         el.type !== "radio" && el.type !== "checkbox"))) {
      typing = { name: el.name, value: el.value, start: el.selectionStart, end: el.selectionEnd };
    }
  });
  document.addEventListener("htmx:afterSwap", function () {
    if (!typing) { return; }
    var saved = typing;
    typing = null;
    var el = document.getElementsByName(saved.name)[0];
    if (!el || el.value === saved.value) { return; }
    el.value = saved.value;
    el.focus();
    try { el.setSelectionRange(saved.start, saved.end); } catch (e) { /* date inputs */ }
  });

  // A file picker cannot be refilled by a page, so a re-render would drop the files a
  // person chose (an attachment field, ADR 0037). The chosen input itself is moved into
  // the new fields in place of its fresh copy, taking the fresh copy's attributes (its
  // error state and descriptions).
  var picked = [];
  document.addEventListener("htmx:beforeSwap", function (event) {
    picked = [];
    var target = event.detail.target;
    if (!target || !target.querySelectorAll) { return; }
    Array.prototype.forEach.call(target.querySelectorAll("input[type=file]"), function (el) {
      if (el.name && el.files && el.files.length) { picked.push(el); }
    });
  });
  document.addEventListener("htmx:afterSwap", function () {
    var chosen = picked;
    picked = [];
    chosen.forEach(function (old) {
      var fresh = document.getElementsByName(old.name);
      for (var i = 0; i < fresh.length; i++) {
        var el = fresh[i];
        if (el === old || el.type !== "file") { continue; }
        Array.prototype.slice.call(old.attributes).forEach(function (a) {
          if (!el.hasAttribute(a.name)) { old.removeAttribute(a.name); }
        });
        Array.prototype.forEach.call(el.attributes, function (a) {
          old.setAttribute(a.name, a.value);
        });
        el.replaceWith(old);
        return;
      }
    });
  });

  document.addEventListener("DOMContentLoaded", function () {
    restoreForms();
    // Bring the error summary of a re-shown form into view for keyboard and screen-reader users.
    var summary = document.getElementById("error-summary");
    if (summary) { summary.focus(); }
  });
})();
