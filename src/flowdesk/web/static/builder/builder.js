// The form builder (ADR 0039): edits an app's form as the JSON app YAML holds under
// `form:`. The palette and the settings panel are drawn from the server's palette
// description (engines/forms/palette.py), so a new field type needs no change here.
// Check, Preview and Publish post the JSON; the server decides everything.
(function () {
  "use strict";
  var root = document.getElementById("builder");
  if (!root) return;
  var zh = root.dataset.locale === "zh";
  var form = JSON.parse(document.getElementById("builder-form").textContent);
  var palette = JSON.parse(document.getElementById("builder-palette").textContent);
  // the published apps a link field can name, with their fields (record apps first)
  var linkApps = JSON.parse(document.getElementById("builder-apps").textContent);
  var kinds = {};
  palette.forEach(function (k) { kinds[k.type] = k; });
  var msg = root.dataset;
  var uid = 0;
  // each field is {id, data}: data is exactly what is sent; problems stay with the field
  var fields = (form.fields || []).map(function (d) { return { id: ++uid, data: d, problems: [] }; });
  var selected = fields.length ? fields[0].id : null;
  var generalProblems = [];
  var els = {
    palette: document.getElementById("palette-list"),
    list: document.getElementById("field-list"),
    settings: document.getElementById("settings-form"),
    empty: document.getElementById("settings-empty"),
    live: document.getElementById("builder-live"),
    status: document.getElementById("builder-status"),
    problems: document.getElementById("builder-problems"),
    dirty: document.getElementById("builder-dirty"),
    preview: document.getElementById("preview-form"),
  };

  function local(text) { return text ? (zh ? text.zh : text.en) || text.en || text.zh || "" : ""; }
  function fill(template, values) {
    return template.replace(/\{(\w+)\}/g, function (m, k) { return k in values ? values[k] : m; });
  }
  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) {
      if (k === "text") node.textContent = attrs[k];
      else if (k === "className") node.className = attrs[k];
      else node.setAttribute(k, attrs[k]);
    });
    (children || []).forEach(function (c) { if (c) node.appendChild(c); });
    return node;
  }
  function fieldName(f) { return local(f.data.label) || f.data.key || ""; }
  function byId(id) { return fields.filter(function (f) { return f.id === id; })[0]; }
  function indexOf(id) { return fields.indexOf(byId(id)); }
  function announce(text) { els.live.textContent = text; }

  // ---------- palette ----------
  palette.forEach(function (kind) {
    var button = el("button", {
      type: "button", className: "builder-kind", draggable: "true",
      "data-type": kind.type, "data-testid": "add-" + kind.type, text: local(kind.label),
    });
    button.addEventListener("click", function () { addField(kind.type, null); });
    button.addEventListener("dragstart", function (e) {
      e.dataTransfer.setData("text/x-flowdesk-type", kind.type);
      e.dataTransfer.effectAllowed = "copy";
    });
    els.palette.appendChild(el("li", {}, [button]));
  });

  function newKey(type) {
    var taken = {};
    fields.forEach(function (f) { taken[f.data.key] = true; });
    for (var n = 1; ; n++) { if (!taken[type + "_" + n]) return type + "_" + n; }
  }
  function addField(type, at) {
    var kind = kinds[type];
    var data = { key: newKey(type), type: type, label: { en: kind.label.en, zh: kind.label.zh } };
    if (kind.settings.some(function (s) { return s.kind === "options"; })) {
      data.options = [{ value: "option_1", label: { en: "Option 1", zh: "选项 1" } }];
    }
    if (kind.settings.some(function (s) { return s.kind === "columns"; })) data.columns = [newColumn([])];
    var field = { id: ++uid, data: data, problems: [] };
    if (at === null) at = selected !== null ? indexOf(selected) + 1 : fields.length;
    fields.splice(at, 0, field);
    selected = field.id;
    changed();
    announce(fill(msg.msgAdded, { label: fieldName(field), n: at + 1 }));
    var card = els.list.querySelector('[data-id="' + field.id + '"] .builder-field-select');
    if (card) card.focus();
  }

  // ---------- the list of fields ----------
  var dragging = null;
  function move(id, to) {
    var from = indexOf(id);
    if (to < 0 || to >= fields.length || to === from) return;
    var field = fields.splice(from, 1)[0];
    fields.splice(to, 0, field);
    changed();
    announce(fill(msg.msgMoved, { label: fieldName(field), n: to + 1 }));
  }
  function dropIndex(e) {
    var cards = Array.prototype.slice.call(els.list.children);
    for (var i = 0; i < cards.length; i++) {
      var box = cards[i].getBoundingClientRect();
      if (e.clientY < box.top + box.height / 2) return i;
    }
    return cards.length;
  }
  els.list.addEventListener("dragover", function (e) { e.preventDefault(); });
  els.list.addEventListener("drop", function (e) {
    e.preventDefault();
    var at = dropIndex(e);
    var type = e.dataTransfer.getData("text/x-flowdesk-type");
    if (type && kinds[type]) { addField(type, at); return; }
    if (dragging !== null) {
      var from = indexOf(dragging);
      move(dragging, at > from ? at - 1 : at);
    }
    dragging = null;
  });

  function drawList() {
    els.list.textContent = "";
    fields.forEach(function (f, i) {
      var kind = kinds[f.data.type];
      var select = el("button", {
        type: "button", className: "builder-field-select", "aria-pressed": String(f.id === selected),
        "data-testid": "field-" + f.data.key,
      }, [
        el("span", { className: "builder-field-label", text: fieldName(f) }),
        el("span", { className: "muted small", text: (kind ? local(kind.label) : f.data.type) + " · " + (f.data.key || "") }),
      ]);
      select.addEventListener("click", function () { selected = f.id; drawList(); drawSettings(); });
      select.addEventListener("keydown", function (e) {
        if (!e.altKey || (e.key !== "ArrowUp" && e.key !== "ArrowDown")) return;
        e.preventDefault();
        move(f.id, indexOf(f.id) + (e.key === "ArrowUp" ? -1 : 1));
        var again = els.list.querySelector('[data-id="' + f.id + '"] .builder-field-select');
        if (again) again.focus();
      });
      var name = fieldName(f);
      var tools = el("span", { className: "builder-field-tools" }, [
        tool(msg.msgUp + ": " + name, "↑", i === 0, function () { move(f.id, i - 1); }, "up"),
        tool(msg.msgDown + ": " + name, "↓", i === fields.length - 1, function () { move(f.id, i + 1); }, "down"),
        tool(msg.msgRemove + ": " + name, "✕", false, function () { remove(f.id); }, "remove"),
      ]);
      var item = el("li", {
        className: "builder-field" + (f.id === selected ? " selected" : "") + (f.problems.length ? " has-error" : ""),
        draggable: "true", "data-id": String(f.id),
      }, [select, tools]);
      if (f.problems.length) {
        item.appendChild(el("span", { className: "builder-badge", "data-testid": "field-problems", text: fill(msg.msgProblems, { n: f.problems.length }) }));
      }
      item.addEventListener("dragstart", function (e) {
        dragging = f.id;
        e.dataTransfer.setData("text/plain", String(f.id));
        e.dataTransfer.effectAllowed = "move";
      });
      els.list.appendChild(item);
    });
  }
  function tool(label, glyph, disabled, action, name) {
    var b = el("button", { type: "button", className: "button button-ghost builder-tool", "aria-label": label, title: label, "data-testid": name, text: glyph });
    if (disabled) b.disabled = true;
    b.addEventListener("click", action);
    return b;
  }
  function remove(id) {
    var at = indexOf(id);
    var field = fields.splice(at, 1)[0];
    if (selected === id) selected = fields.length ? fields[Math.min(at, fields.length - 1)].id : null;
    changed();
    announce(fill(msg.msgRemoved, { label: fieldName(field) }));
  }

  // ---------- the settings panel ----------
  function drawSettings() {
    var field = byId(selected);
    els.settings.textContent = "";
    els.settings.hidden = !field;
    els.empty.hidden = !!field;
    if (!field) return;
    var kind = kinds[field.data.type] || { settings: [] };
    var names = kind.settings.map(function (st) { return st.name; });
    // problems at the field itself, its key or type, or a setting its type does not take
    var general = field.problems.filter(function (p) { return !p.setting || names.indexOf(p.setting) < 0; });
    var head = el("fieldset", { className: "builder-group" }, [el("legend", { text: msg.msgBasic })]);
    head.appendChild(el("p", { className: "small", text: msg.msgType + (zh ? "：" : ": ") + local(kind.label || { en: field.data.type, zh: field.data.type }) }));
    head.appendChild(textInput(field, "key", msg.msgKey, field.data.key || "", function (v) { field.data.key = v.trim(); }));
    problemsAt(head, general);
    var groups = { basic: head };
    ["validation", "rules"].forEach(function (g) {
      groups[g] = el("fieldset", { className: "builder-group" }, [el("legend", { text: msg["msg" + g[0].toUpperCase() + g.slice(1)] })]);
    });
    // one help for every expression of the field, under the group's legend
    groups.rules.appendChild(el("p", { className: "help", id: "b-expression-help", text: msg.msgExpressionHelp }));
    kind.settings.forEach(function (s) {
      var group = groups[s.group] || groups.validation;
      group.appendChild(settingInput(field, s));
      problemsAt(group, field.problems.filter(function (p) { return p.setting === s.name && p.column === undefined; }));
    });
    ["basic", "validation", "rules"].forEach(function (g) {
      if (groups[g].querySelector("[data-setting]")) els.settings.appendChild(groups[g]);
    });
  }
  function problemsAt(parent, problems) {
    problems.forEach(function (p) {
      parent.appendChild(el("p", { className: "field-error", "data-testid": "setting-error", text: p.message + " (" + p.path + ")" }));
    });
  }
  var nextInput = 0;
  function inputId() { return "b-input-" + (++nextInput); }
  function wrap(label, input, help) {
    var id = input.id || (input.id = inputId());
    var box = el("div", { className: "field" }, [el("label", { for: id, text: label }), input]);
    if (help) {
      var helpId = id + "-help";
      box.appendChild(el("p", { className: "help", id: helpId, text: help }));
      input.setAttribute("aria-describedby", helpId);
    }
    return box;
  }
  function textInput(field, name, label, value, write, multiline) {
    var input = el(multiline ? "textarea" : "input", multiline ? { rows: "2", spellcheck: "false" } : { type: "text", autocomplete: "off", spellcheck: "false" });
    input.value = value;
    input.setAttribute("data-setting", name);
    input.setAttribute("data-testid", "setting-" + name);
    input.addEventListener("input", function () { write(input.value); edited(); });
    return wrap(label, input);
  }
  function setOrDrop(data, name, value) {
    if (value === undefined || value === null || value === "") delete data[name];
    else data[name] = value;
  }
  // `field` is a field of the list, or a sub-table's column as {data, prefix, siblings}:
  // the same inputs, named "columns[1].max" so a problem's path finds them
  function settingInput(field, s) {
    var data = field.data;
    var label = local(s.label);
    var value = data[s.name];
    var name = (field.prefix || "") + s.name;
    if (s.kind === "local_text") return localText(field, s, label);
    if (s.kind === "options") return optionsEditor(field, label);
    if (s.kind === "columns") return columnsEditor(field, s, label);
    if (s.kind === "bool") {
      var box = el("input", { type: "checkbox", "data-setting": name });
      box.checked = value === undefined ? boolDefault(data, s.name) : value === true;
      box.addEventListener("change", function () {
        if (s.name === "required") setOrDrop(data, s.name, box.checked ? true : undefined);
        else data[s.name] = box.checked;
        edited();
      });
      var id = inputId();
      box.id = id;
      return el("div", { className: "field" }, [el("label", { className: "checkbox", for: id }, [box, document.createTextNode(" " + label)])]);
    }
    if (s.kind === "choice" || s.kind === "field") {
      var select = el("select", { "data-setting": name });
      var choices = s.kind === "choice" ? s.choices : field.siblings || fields.filter(function (f) { return f !== field; }).map(function (f) { return f.data.key; });
      select.appendChild(el("option", { value: "", text: s.kind === "choice" ? msg.msgDefaultChoice : msg.msgNoField }));
      choices.forEach(function (c) { select.appendChild(el("option", { value: c, text: c })); });
      select.value = value === undefined ? "" : String(value);
      select.addEventListener("change", function () {
        setOrDrop(data, s.name, select.value);
        edited();
        if (s.name === "link") redrawAt(name);  // a roll-up's field is one of that link's app's
      });
      return wrap(label, select);
    }
    if (s.kind === "app") return appSelect(field, s, label, name);
    if (s.kind === "linked_field" || s.kind === "linked_fields") {
      var offered = appFields(linkedApp(field));
      if (!offered) return settingInput(field, withKind(s, s.kind === "linked_field" ? "text" : "words"));
      return s.kind === "linked_field" ? linkedField(field, s, label, name, offered) : linkedFields(field, s, label, name, offered);
    }
    if (s.kind === "integer" || s.kind === "number") {
      var input = el("input", { type: "text", inputmode: s.kind === "integer" ? "numeric" : "decimal", autocomplete: "off", "data-setting": name });
      input.value = value === undefined ? "" : String(value);
      input.addEventListener("input", function () {
        var text = input.value.trim();
        // an integer is sent as one when it reads as one; anything else as typed, for the server to judge
        setOrDrop(data, s.name, s.kind === "integer" && /^-?\d+$/.test(text) ? parseInt(text, 10) : text);
        edited();
      });
      return wrap(label, input);
    }
    if (s.kind === "expression") {
      var area = el("textarea", { rows: "2", spellcheck: "false", autocomplete: "off", "data-setting": name, className: "builder-expression" });
      area.value = value || "";
      area.addEventListener("input", function () { setOrDrop(data, s.name, area.value.trim() ? area.value : undefined); edited(); });
      area.setAttribute("aria-describedby", "b-expression-help");
      return wrap(label, area);
    }
    if (s.kind === "text") {
      var text = el("input", { type: "text", autocomplete: "off", spellcheck: "false", "data-setting": name });
      text.value = value || "";
      text.addEventListener("input", function () { setOrDrop(data, s.name, text.value); edited(); });
      return wrap(label, text);
    }
    if (s.kind === "words") {  // a list of short texts: file types, typed "pdf, jpg"
      var words = el("input", { type: "text", autocomplete: "off", spellcheck: "false", "data-setting": name });
      words.value = Array.isArray(value) ? value.join(", ") : "";
      words.addEventListener("input", function () {
        var list = words.value.split(/[\s,，、]+/).filter(function (w) { return w; });
        setOrDrop(data, s.name, list.length ? list : undefined);
        edited();
      });
      return wrap(label, words);
    }
    // json: a setting this page has no input for yet (a newer field type's)
    var json = el("textarea", { rows: "3", spellcheck: "false", "data-setting": name });
    json.value = value === undefined ? "" : JSON.stringify(value, null, 1);
    json.addEventListener("input", function () {
      var raw = json.value.trim();
      try { setOrDrop(data, s.name, raw ? JSON.parse(raw) : undefined); } catch (err) { data[s.name] = raw; }
      edited();
    });
    return wrap(label, json, msg.msgJsonHelp);
  }
  // ---------- a link's app and the linked app's fields ----------
  function withKind(s, kind) {
    var copy = {};
    Object.keys(s).forEach(function (k) { copy[k] = s[k]; });
    copy.kind = kind;
    return copy;
  }
  function redrawAt(name) { drawSettings(); focusIn('[data-setting="' + name + '"]'); }
  // the app a link field names, or the app of the link field a roll-up names
  function linkedApp(field) {
    var data = field.data;
    if (data.type !== "rollup") return data.app;
    var link = fields.filter(function (f) { return f.data.key === data.link; })[0];
    return link ? link.data.app : undefined;
  }
  function appFields(key) {
    var app = linkApps.filter(function (a) { return a.key === key; })[0];
    return app ? app.fields : null;
  }
  function keyedSelect(name, value, none, entries) {
    var select = el("select", { "data-setting": name });
    select.appendChild(el("option", { value: "", text: none }));
    if (value && !entries.some(function (e) { return e.key === value; })) entries = entries.concat([{ key: value, text: value }]);
    entries.forEach(function (e) { select.appendChild(el("option", { value: e.key, text: e.text })); });
    select.value = value || "";
    return select;
  }
  function appSelect(field, s, label, name) {
    var entries = linkApps.map(function (a) { return { key: a.key, text: local(a.name) + " · " + a.key }; });
    var select = keyedSelect(name, field.data[s.name], msg.msgNoField, entries);
    select.addEventListener("change", function () { setOrDrop(field.data, s.name, select.value); edited(); redrawAt(name); });
    return wrap(label, select);
  }
  function fieldEntries(offered) { return offered.map(function (f) { return { key: f.key, text: local(f.label) + " · " + f.key }; }); }
  function linkedField(field, s, label, name, offered) {
    var select = keyedSelect(name, field.data[s.name], msg.msgNoField, fieldEntries(offered));
    select.addEventListener("change", function () { setOrDrop(field.data, s.name, select.value); edited(); });
    return wrap(label, select);
  }
  function linkedFields(field, s, label, name, offered) {
    var data = field.data;
    var box = el("fieldset", { className: "builder-checks", "data-setting-group": name }, [el("legend", { text: label })]);
    var chosen = Array.isArray(data[s.name]) ? data[s.name] : [];
    // a key the linked app no longer has stays, for the server to name
    var stale = chosen.filter(function (k) { return !offered.some(function (f) { return f.key === k; }); });
    fieldEntries(offered).forEach(function (entry, i) {
      var check = el("input", { type: "checkbox", value: entry.key, "data-setting": i ? name + "." + entry.key : name });
      check.checked = chosen.indexOf(entry.key) >= 0;
      check.addEventListener("change", function () {
        var picked = stale.concat(Array.prototype.filter.call(box.querySelectorAll("input"), function (c) { return c.checked; }).map(function (c) { return c.value; }));
        setOrDrop(data, s.name, picked.length ? picked : undefined);
        edited();
      });
      var id = check.id = inputId();
      box.appendChild(el("div", { className: "field" }, [el("label", { className: "checkbox", for: id }, [check, document.createTextNode(" " + entry.text)])]));
    });
    return box;
  }

  // what the engine assumes when a yes/no setting is left out (parse.py)
  function boolDefault(data, name) {
    if (name === "capitals") return (data.currency || "CNY") === "CNY";
    return name === "luhn";
  }
  function localText(field, s, label) {
    var data = field.data;
    var box = el("fieldset", { className: "builder-local" }, [el("legend", { text: label })]);
    ["zh", "en"].forEach(function (lang) {
      var name = (field.prefix || "") + s.name;
      var input = el("input", { type: "text", autocomplete: "off", "data-setting": name + "." + lang, "data-testid": "setting-" + name + "-" + lang });
      input.value = data[s.name] ? data[s.name][lang] || "" : "";
      input.addEventListener("input", function () {
        var text = data[s.name] || {};
        text[lang] = input.value;
        if (!text.en && !text.zh) delete data[s.name];
        else data[s.name] = { en: text.en || "", zh: text.zh || "" };
        if (s.name === "label" && !field.prefix) drawList();
        edited();
      });
      box.appendChild(wrap(lang === "zh" ? msg.msgZh : msg.msgEn, input));
    });
    return box;
  }
  function optionsEditor(field, label) {
    var data = field.data;
    var box = el("fieldset", { className: "builder-options", "data-testid": "options" }, [el("legend", { text: label })]);
    box.appendChild(el("p", { className: "help", text: msg.msgOptionHelp }));
    var options = data.options || (data.options = []);
    options.forEach(function (option, i) {
      var row = el("div", { className: "builder-option", "data-testid": "option" });
      [["value", msg.msgOptionValue], ["zh", msg.msgZh], ["en", msg.msgEn]].forEach(function (part) {
        var input = el("input", { type: "text", autocomplete: "off", "data-option": part[0] });
        input.value = part[0] === "value" ? option.value : (option.label || {})[part[0]] || "";
        input.addEventListener("input", function () {
          if (part[0] === "value") option.value = input.value;
          else { option.label = option.label || { en: "", zh: "" }; option.label[part[0]] = input.value; }
          edited();
        });
        row.appendChild(wrap(part[1] + " " + (i + 1), input));
      });
      row.appendChild(el("span", { className: "builder-field-tools" }, [
        tool(msg.msgUp + " " + (i + 1), "↑", i === 0, function () { moveOption(options, i, i - 1); }, "option-up"),
        tool(msg.msgDown + " " + (i + 1), "↓", i === options.length - 1, function () { moveOption(options, i, i + 1); }, "option-down"),
        tool(msg.msgRemove + " " + (i + 1), "✕", false, function () { options.splice(i, 1); edited(); drawSettings(); }, "remove-option"),
      ]));
      box.appendChild(row);
    });
    var add = el("button", { type: "button", className: "button button-secondary", "data-testid": "add-option", text: msg.msgAddOption });
    add.addEventListener("click", function () {
      var n = options.length + 1;
      var used = options.map(function (o) { return o.value; });
      while (used.indexOf("option_" + n) >= 0) n++;
      options.push({ value: "option_" + n, label: { en: "Option " + n, zh: "选项 " + n } });
      edited();
      drawSettings();
    });
    box.appendChild(add);
    return box;
  }

  // ---------- a sub-table's columns: fields of their own, edited with the same inputs ----------
  function newColumn(columns) {
    var used = columns.map(function (c) { return c.key; });
    var n = columns.length + 1;
    while (used.indexOf("column_" + n) >= 0) n++;
    return { key: "column_" + n, type: "text", label: { en: "Column " + n, zh: "列 " + n } };
  }
  function columnName(column, j) { return local(column.label) || column.key || String(j + 1); }
  function columnsEditor(field, s, label) {
    var data = field.data;
    var columns = Array.isArray(data.columns) ? data.columns : (data.columns = []);
    var box = el("fieldset", { className: "builder-columns", "data-testid": "columns" }, [el("legend", { text: label })]);
    box.appendChild(el("p", { className: "help", id: "b-columns-help", text: msg.msgColumnHelp }));
    columns.forEach(function (column, j) {
      var name = columnName(column, j);
      var part = el("fieldset", { className: "builder-column", "data-testid": "column", "data-column": String(j), "aria-describedby": "b-columns-help" }, [
        el("legend", { text: fill(msg.msgColumn, { n: j + 1, label: name }) }),
      ]);
      part.appendChild(el("span", { className: "builder-field-tools" }, [
        tool(msg.msgUp + ": " + name, "↑", j === 0, function () { moveColumn(columns, j, j - 1); }, "column-up"),
        tool(msg.msgDown + ": " + name, "↓", j === columns.length - 1, function () { moveColumn(columns, j, j + 1); }, "column-down"),
        tool(msg.msgRemove + ": " + name, "✕", false, function () {
          columns.splice(j, 1);
          edited();
          drawSettings();
          announce(fill(msg.msgRemoved, { label: name }));
          focusIn("[data-testid=add-column]");
        }, "remove-column"),
      ]));
      part.addEventListener("keydown", function (e) {
        if (!e.altKey || (e.key !== "ArrowUp" && e.key !== "ArrowDown")) return;
        e.preventDefault();
        moveColumn(columns, j, j + (e.key === "ArrowUp" ? -1 : 1), e.target.getAttribute("data-setting"));
      });
      var prefix = "columns[" + j + "].";
      var problems = field.problems ? field.problems.filter(function (p) { return p.column === j; }) : [];
      var scope = { data: column, prefix: prefix, siblings: columns.filter(function (c) { return c !== column; }).map(function (c) { return c.key; }) };
      part.appendChild(textInput(scope, prefix + "key", msg.msgKey, column.key || "", function (v) { column.key = v.trim(); }));
      problemsAt(part, problems.filter(function (p) { return !p.column_setting || p.column_setting === "key"; }));
      var type = el("select", { "data-setting": prefix + "type", "data-testid": "setting-" + prefix + "type" });
      s.choices.forEach(function (t) { type.appendChild(el("option", { value: t, text: kinds[t] ? local(kinds[t].label) : t })); });
      type.value = column.type;
      type.addEventListener("change", function () { retype(column, type.value); edited(); drawSettings(); focusIn('[data-setting="' + prefix + 'type"]'); });
      part.appendChild(wrap(msg.msgType, type));
      problemsAt(part, problems.filter(function (p) { return p.column_setting === "type"; }));
      columnSettings(column.type).forEach(function (cs) {
        part.appendChild(settingInput(scope, cs));
        problemsAt(part, problems.filter(function (p) { return p.column_setting === cs.name; }));
      });
      box.appendChild(part);
    });
    var add = el("button", { type: "button", className: "button button-secondary", "data-testid": "add-column", text: msg.msgAddColumn });
    add.addEventListener("click", function () {
      var column = newColumn(columns);
      columns.push(column);
      edited();
      drawSettings();
      announce(fill(msg.msgAdded, { label: columnName(column, columns.length - 1), n: columns.length }));
      focusIn('[data-setting="columns[' + (columns.length - 1) + '].key"]');
    });
    box.appendChild(add);
    return box;
  }
  // the settings of a column of this type: the palette's, but those a column cannot carry
  function columnSettings(type) {
    return ((kinds[type] || {}).settings || []).filter(function (cs) { return cs.in_column !== false; });
  }
  // another type keeps the key, the label and what the new type also takes
  function retype(column, type) {
    var keep = { key: true, type: true };
    columnSettings(type).forEach(function (cs) { keep[cs.name] = true; });
    Object.keys(column).forEach(function (k) { if (!keep[k]) delete column[k]; });
    column.type = type;
    if (columnSettings(type).some(function (cs) { return cs.kind === "options"; }) && !column.options) {
      column.options = [{ value: "option_1", label: { en: "Option 1", zh: "选项 1" } }];
    }
  }
  function moveColumn(columns, from, to, setting) {
    if (to < 0 || to >= columns.length) return;
    var column = columns.splice(from, 1)[0];
    columns.splice(to, 0, column);
    edited();
    drawSettings();
    announce(fill(msg.msgMoved, { label: columnName(column, to), n: to + 1 }));
    var part = els.settings.querySelectorAll("[data-testid=column]")[to];
    var again = part && setting ? part.querySelector('[data-setting="' + setting.replace(/^columns\[\d+\]/, "columns[" + to + "]") + '"]') : null;
    if (!again && part) again = part.querySelector("[data-testid=" + (to < from ? "column-up" : "column-down") + "]:not([disabled])") || part.querySelector("input");
    if (again) again.focus();
  }
  function focusIn(selector) {
    var target = els.settings.querySelector(selector);
    if (target) target.focus();
  }

  function moveOption(options, from, to) {
    options.splice(to, 0, options.splice(from, 1)[0]);
    edited();
    drawSettings();
    var again = els.settings.querySelectorAll("[data-testid=option]")[to];
    if (again) again.querySelector("input").focus();
  }

  // ---------- the server: check, preview, publish ----------
  function body() { return { fields: fields.map(function (f) { return f.data; }) }; }
  function post(url, payload) {
    return fetch(url, {
      method: "POST", credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": root.dataset.csrf },
      body: JSON.stringify(payload),
    });
  }
  function showProblems(errors) {
    fields.forEach(function (f) { f.problems = []; });
    generalProblems = [];
    var at = fields.slice();
    errors.forEach(function (p) {
      var f = p.field !== null && p.field !== undefined ? at[p.field] : null;
      if (f) f.problems.push(p); else generalProblems.push(p);
    });
    els.problems.textContent = "";
    at.forEach(function (f) {
      f.problems.forEach(function (p) {
        var link = el("button", { type: "button", className: "link-button", text: fieldName(f) });
        link.addEventListener("click", function () {
          selected = f.id;
          drawList();
          drawSettings();
          var setting = p.column !== undefined ? "columns[" + p.column + "]." + (p.column_setting || "key") : p.setting || "key";
          var input = els.settings.querySelector('[data-setting^="' + setting + '"]');
          if (input) input.focus();
        });
        els.problems.appendChild(el("li", { "data-testid": "problem" }, [link, document.createTextNode(" · " + p.message + " "), el("code", { text: p.path })]));
      });
    });
    generalProblems.forEach(function (p) {
      els.problems.appendChild(el("li", { "data-testid": "problem" }, [document.createTextNode(msg.msgAppProblem + " · " + p.message + " "), el("code", { text: p.path || "" })]));
    });
    drawList();
    drawSettings();
  }
  function status(text) { els.status.textContent = text; els.status.focus(); }
  function send(url, done) {
    status(msg.msgChecking);
    post(url, { form: body() }).then(function (response) {
      return response.json().then(function (answer) { return { ok: response.ok, answer: answer }; });
    }).then(function (result) {
      showProblems(result.answer.errors || []);
      if (!result.ok || !result.answer.ok) { status(msg.msgInvalid); return; }
      done(result.answer);
    }).catch(function () { status(msg.msgFailed); });
  }
  document.getElementById("builder-check").addEventListener("click", function () {
    send(root.dataset.checkUrl, function () { status(msg.msgValid); });
  });
  document.getElementById("builder-publish").addEventListener("click", function () {
    send(root.dataset.publishUrl, function (answer) {
      els.dirty.hidden = true;
      status(fill(answer.changed ? msg.msgPublished : msg.msgUnchanged, { version: answer.version }));
    });
  });

  var previewTimer = null;
  var previewRun = 0;
  function previewValues() {
    var values = {};
    new FormData(els.preview).forEach(function (value, name) {
      if (typeof value !== "string") return;
      if (name.slice(-2) === "[]") (values[name.slice(0, -2)] = values[name.slice(0, -2)] || []).push(value);
      else values[name] = value;
    });
    return values;
  }
  function refreshPreview() {
    var run = ++previewRun;
    post(root.dataset.previewUrl, { form: body(), values: previewValues() })
      .then(function (response) { return response.text(); })
      .then(function (html) {
        if (run !== previewRun) return;  // a newer preview is on its way
        els.preview.innerHTML = html;
        els.preview.setAttribute("data-ready", String(run));
      })
      .catch(function () {});
  }
  function schedulePreview() { clearTimeout(previewTimer); previewTimer = setTimeout(refreshPreview, 300); }
  els.preview.addEventListener("change", schedulePreview);
  els.preview.addEventListener("submit", function (e) { e.preventDefault(); });
  Array.prototype.forEach.call(root.querySelectorAll("[data-width]"), function (button) {
    button.addEventListener("click", function () {
      els.preview.classList.toggle("builder-preview-phone", button.dataset.width === "phone");
      Array.prototype.forEach.call(root.querySelectorAll("[data-width]"), function (b) {
        b.setAttribute("aria-pressed", String(b === button));
      });
    });
  });

  function edited() { els.dirty.hidden = false; schedulePreview(); }
  function changed() { drawList(); drawSettings(); edited(); }
  drawList();
  drawSettings();
  refreshPreview();
  root.setAttribute("data-ready", "");
})();
