// Keeps what a nurse types in a chart form in this tab's sessionStorage (per visit and form), so a
// reload or a lost connection never loses it. Restored on the next load of the same form unless
// the server re-rendered it (its values win); forgotten once the server confirms the save (the
// next page carries data-draft-clear). No inline script anywhere: strict CSP.
(function () {
  "use strict";
  var PREFIX = "conciergemd-draft:";
  var store;
  try {
    store = window.sessionStorage;
    store.setItem(PREFIX + "probe", "1");
    store.removeItem(PREFIX + "probe");
  } catch (e) {
    return; // private mode or storage disabled: the server-side re-render still keeps values
  }

  document.querySelectorAll("[data-draft-clear]").forEach(function (el) {
    var key = el.getAttribute("data-draft-clear");
    if (key) { store.removeItem(PREFIX + key); }
  });

  function fieldsOf(form) {
    return Array.prototype.filter.call(form.elements, function (el) {
      return el.name && el.name !== "csrfmiddlewaretoken" && el.name !== "action" &&
        el.type !== "submit" && el.type !== "button" && el.type !== "file";
    });
  }

  function save(form, key) {
    var data = {};
    fieldsOf(form).forEach(function (el) {
      if (el.type === "checkbox") {
        data[el.name] = data[el.name] || [];
        if (el.checked) { data[el.name].push(el.value); }
      } else if (el.type === "radio") {
        if (el.checked) { data[el.name] = el.value; } else if (!(el.name in data)) { data[el.name] = null; }
      } else {
        data[el.name] = el.value;
      }
    });
    try { store.setItem(key, JSON.stringify(data)); } catch (e) { /* storage full: nothing to do */ }
  }

  function restore(form, key) {
    var raw = store.getItem(key);
    if (!raw) { return false; }
    var data;
    try { data = JSON.parse(raw); } catch (e) { return false; }
    var changed = false;
    fieldsOf(form).forEach(function (el) {
      if (!(el.name in data)) { return; }
      var value = data[el.name];
      if (el.type === "checkbox") {
        var checked = Array.isArray(value) && value.indexOf(el.value) !== -1;
        changed = changed || checked !== el.checked;
        el.checked = checked;
      } else if (el.type === "radio") {
        var on = value === el.value;
        changed = changed || on !== el.checked;
        el.checked = on;
      } else if (typeof value === "string" && el.value !== value) {
        el.value = value;
        changed = true;
      }
    });
    return changed;
  }

  document.querySelectorAll("form[data-draft]").forEach(function (form) {
    var key = PREFIX + form.getAttribute("data-draft");
    if (form.hasAttribute("data-draft-bound")) {
      save(form, key); // the server's re-render (with its errors) is the newest state
    } else if (restore(form, key)) {
      var notice = form.querySelector("[data-draft-notice]");
      if (notice) { notice.hidden = false; }
    }
    form.addEventListener("input", function () { save(form, key); });
    form.addEventListener("change", function () { save(form, key); });
  });
})();
