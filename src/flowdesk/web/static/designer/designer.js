// flowdesk process designer: bpmn-js draws the diagram; this side panel edits what BPMN
// lacks, as flowdesk: extension elements written exactly as engines/process/bpmn/write.py
// writes them (docs/bpmn.md). Check and Publish post the XML to the designer's endpoints,
// which run the same import as a BPMN upload. Only the designer page loads this file.
(function () {
  "use strict";
  var root = document.getElementById("designer");
  if (!root) { return; }
  var data = root.dataset;
  var FLOWDESK_EXPRESSION = "https://flowdesk.dev/schema/expression";
  // node settings the panel writes that the writer can only spell as flowdesk:option
  var PANEL_OPTIONS = {
    assignee: true, approval: true, resubmit: true, once_per_ticket: true,
    auto: true, on_empty: true, approve_once: true, withdraw: true, add_sign_depth: true
  };
  var USER_TASK_ONLY = { auto: true, on_empty: true, approve_once: true, withdraw: true, add_sign_depth: true };
  var SERVICE = "bpmn:ServiceTask";  // calls its flowdesk:option webhook (ADR 0024)
  var MANAGED = { "flowdesk:Name": true, "flowdesk:Assignee": true, "flowdesk:Approval": true, "flowdesk:Editable": true, "flowdesk:Field": true };
  var START = "bpmn:StartEvent";  // the start form has its own field permissions (ADR 0037)
  var PAGE_LANG = document.documentElement.lang.indexOf("zh") === 0 ? "zh" : "en";
  var TASKS = { "bpmn:UserTask": true, "bpmn:Task": true, "bpmn:ManualTask": true };
  // a send task is a CC step (抄送): its assignee is whom it copies (docs/bpmn.md)
  var CC = "bpmn:SendTask";
  // gateways whose exits may be the default flow (an inclusive one: ADR 0022)
  var DEFAULTING = { "bpmn:ExclusiveGateway": true, "bpmn:InclusiveGateway": true };
  // Below this width bpmn-js cannot be drawn with a finger: the page shows the read-only viewer.
  var readOnly = window.matchMedia("(max-width: 767px)").matches;

  var canvasBox = document.getElementById("designer-canvas");
  var statusBox = document.getElementById("designer-status");
  var problemsBox = document.getElementById("designer-problems");
  var checkButton = document.getElementById("designer-check");
  var publishButton = document.getElementById("designer-publish");
  var dirtyNote = document.getElementById("designer-dirty");
  var form = document.getElementById("panel-form");
  var processForm = document.getElementById("process-form");
  var empty = document.getElementById("panel-empty");
  var $ = function (id) { return document.getElementById(id); };

  var modeler = null;
  var current = null; // the diagram element the panel shows
  var filling = false;
  var dirty = false;

  function loadScript(src) {
    return new Promise(function (resolve, reject) {
      var script = document.createElement("script");
      script.src = src;
      script.onload = resolve;
      script.onerror = function () { reject(new Error("script " + src)); };
      document.head.appendChild(script);
    });
  }

  function fetchOk(url, as) {
    return fetch(url, { credentials: "same-origin" }).then(function (response) {
      if (!response.ok) { throw new Error(url + " " + response.status); }
      return as === "json" ? response.json() : response.text();
    });
  }

  function setStatus(text) { statusBox.textContent = text; }

  function setDirty(value) {
    dirty = value;
    dirtyNote.hidden = !value;
  }

  window.addEventListener("beforeunload", function (event) {
    if (!dirty) { return; }
    event.preventDefault();
    event.returnValue = ""; // older browsers need a value to ask
  });

  // --- the extension elements of a business object ------------------------------------

  function extensionValues(bo) {
    return (bo.extensionElements && bo.extensionElements.values) || [];
  }

  function firstOf(bo, type) {
    var values = extensionValues(bo);
    for (var i = 0; i < values.length; i++) {
      if (values[i].$type === type) { return values[i]; }
    }
    return null;
  }

  function nameIn(bo, lang) {
    var values = extensionValues(bo);
    for (var i = 0; i < values.length; i++) {
      if (values[i].$type === "flowdesk:Name" && values[i].lang === lang) { return values[i].body || ""; }
    }
    return null;
  }

  // a node setting without an element of its own: <flowdesk:option key="...">JSON</flowdesk:option>
  function optionValue(bo, key) {
    var values = extensionValues(bo);
    for (var i = 0; i < values.length; i++) {
      if (values[i].$type === "flowdesk:Option" && values[i].key === key) {
        try { return JSON.parse(values[i].body || "null"); } catch (e) { return null; }
      }
    }
    return null;
  }

  function isChinese(text) { return /[\u3400-\u9fff]/.test(text || ""); }

  // --- showing the selected element ---------------------------------------------------

  function show(section, visible) {
    Array.prototype.forEach.call(form.querySelectorAll('[data-section="' + section + '"]'), function (el) {
      el.hidden = !visible;
    });
  }

  function showKind() {
    var kind = $("panel-assignee-kind").value;
    Array.prototype.forEach.call(form.querySelectorAll("[data-kinds]"), function (el) {
      el.hidden = el.getAttribute("data-kinds") !== kind;
    });
    var emptyAction = $("panel-empty-action").value;
    Array.prototype.forEach.call(form.querySelectorAll("[data-empty]"), function (el) {
      el.hidden = el.getAttribute("data-empty") !== emptyAction;
    });
    var vote = $("panel-mode").value === "vote";
    Array.prototype.forEach.call(form.querySelectorAll("[data-modes]"), function (el) { el.hidden = !vote; });
  }

  // --- call activities (ADR 0033): the app called and the mappings, one "a = b" a line --

  function isCall(bo) { return bo.$type === "bpmn:CallActivity"; }

  function mappingText(mapping) {
    return Object.keys(mapping || {}).map(function (k) { return k + " = " + mapping[k]; }).join("\n");
  }

  function mappingOf(text) {
    var mapping = {};
    text.split(/\n/).forEach(function (line) {
      var at = line.indexOf("=");
      if (at <= 0) { return; }
      var target = line.slice(0, at).trim();
      var source = line.slice(at + 1).trim();
      if (target && source) { mapping[target] = source; }
    });
    return mapping;
  }

  function fillCall(bo) {
    var call = optionValue(bo, "call") || {};
    $("panel-call-app").value = bo.calledElement || call.app || "";
    $("panel-call-inputs").value = mappingText(call.inputs);
    $("panel-call-outputs").value = mappingText(call.outputs);
  }

  function callSetting(bo) {
    // the keys the panel has no field for (a pinned version, a multi-instance call's
    // each / as / order: ADR 0035) are kept as the option had them
    var call = Object.assign({}, optionValue(bo, "call") || {});
    call.app = $("panel-call-app").value.trim();
    delete call.inputs;
    delete call.outputs;
    var inputs = mappingOf($("panel-call-inputs").value);
    var outputs = mappingOf($("panel-call-outputs").value);
    if (Object.keys(inputs).length) { call.inputs = inputs; }
    if (Object.keys(outputs).length) { call.outputs = outputs; }
    return call;
  }

  // --- timers and messages (ADR 0023) -------------------------------------------------

  function definitionOf(bo, type) {
    var found = (bo && bo.eventDefinitions) || [];
    for (var i = 0; i < found.length; i++) {
      if (found[i].$type === type) { return found[i]; }
    }
    return null;
  }

  function isMessageWait(bo) {  // a catch event, a receive task, a boundary message (ADR 0035)
    return bo.$type === "bpmn:ReceiveTask" ||
      ((bo.$type === "bpmn:IntermediateCatchEvent" || bo.$type === "bpmn:BoundaryEvent" ||
        bo.$type === "bpmn:StartEvent") &&
        !!definitionOf(bo, "bpmn:MessageEventDefinition"));
  }

  function fillTimer(bo) {
    var definition = definitionOf(bo, "bpmn:TimerEventDefinition");
    var timer = optionValue(bo, "timer") || {};
    var after = timer.after || (definition && definition.timeDuration && definition.timeDuration.body) || "";
    $("panel-timer-after").value = after;
    $("panel-timer-working").checked = timer.working === true;
    $("panel-timer-action").value = typeof timer.action === "string" ? timer.action : (bo.cancelActivity === false ? "remind" : "");
    $("panel-timer-repeat").value = timer.repeat ? String(timer.repeat) : "";
    $("panel-timer-every").value = timer.every || "";
  }

  function timerSetting(boundary) {
    var timer = {};
    var after = $("panel-timer-after").value.trim().toUpperCase();
    if (after) { timer.after = after; }
    if ($("panel-timer-working").checked) { timer.working = true; }
    if (boundary) {
      var action = $("panel-timer-action").value;
      if (action) { timer.action = action; }
      if (action === "escalate") { timer.to = { kind: "previous_approver_manager" }; }
      var repeat = wholeNumber($("panel-timer-repeat").value);
      if (repeat && (action === "remind" || action === "escalate")) {
        timer.repeat = repeat;
        var every = $("panel-timer-every").value.trim().toUpperCase();
        if (every) { timer.every = every; }
      }
    }
    return timer;
  }

  function fill(element) {
    if (element && element.type === "label") { element = element.labelTarget; }
    var bo = element && element.businessObject;
    if (!bo || bo.$type === "bpmn:Process" || bo.$type === "bpmn:Collaboration") {
      current = null;
      form.hidden = true;
      empty.hidden = false;
      fillProcess();
      return;
    }
    current = element;
    filling = true;
    processForm.hidden = true;
    form.hidden = false;
    empty.hidden = true;
    $("panel-id").textContent = bo.id;
    var isFlow = bo.$type === "bpmn:SequenceFlow";
    var isTask = !!TASKS[bo.$type];
    var isCc = bo.$type === CC;
    show("node", !isFlow);
    show("task", isTask || isCc);
    show("approver", isTask);
    show("cc", isCc);
    show("flow", isFlow);
    var hasFields = isTask || bo.$type === START;
    show("fields", hasFields);
    if (hasFields) { fillFields(bo); }
    var isService = bo.$type === SERVICE;
    show("webhook", isService);
    if (isService) { fillWebhook(bo); }
    showElementProblems(bo.id);
    var timed = !!definitionOf(bo, "bpmn:TimerEventDefinition");
    var boundaryTimer = timed && bo.$type === "bpmn:BoundaryEvent";
    show("timer", timed);
    show("boundary-timer", boundaryTimer);
    if (timed) { fillTimer(bo); }
    show("call", isCall(bo));
    if (isCall(bo)) { fillCall(bo); }
    show("message", isMessageWait(bo));
    if (isMessageWait(bo)) {
      var message = optionValue(bo, "message") || {};
      $("panel-message-name").value = message.name || "";
      if (message.key) { $("panel-message-key").value = message.key; }
    }
    var thrown = errorDefinition(bo);  // an error end or error boundary event (ADR 0022)
    show("error", !!thrown);
    if (thrown) {
      $("panel-error-code").value = (thrown.errorRef && (thrown.errorRef.errorCode || thrown.errorRef.name)) || "";
    }
    if (!isFlow) {
      var zh = nameIn(bo, "zh");
      var en = nameIn(bo, "en");
      // a label typed on the canvas is the name of its script's language, as the reader takes it
      if (bo.name && bo.name !== zh && bo.name !== en) {
        if (isChinese(bo.name)) { zh = bo.name; } else { en = bo.name; }
      }
      $("panel-name-zh").value = zh || "";
      $("panel-name-en").value = en || "";
    }
    if (isTask || isCc) {
      var assignee = firstOf(bo, "flowdesk:Assignee");
      $("panel-assignee-kind").value = assignee ? assignee.kind || "" : "";
      $("panel-user").value = (assignee && assignee.user) || "";
      $("panel-users").value = assignee && assignee.users ? assignee.users.map(function (u) { return u.body || ""; }).join("\n") : "";
      $("panel-role").value = (assignee && assignee.role) || "";
      $("panel-department").value = (assignee && assignee.department) || "";
      $("panel-level").value = assignee && assignee.level ? String(assignee.level) : "";
      $("panel-pick").value = (assignee && assignee.pick) || "";
      if (assignee && assignee.field) {
        $(assignee.kind === "field_department_head" ? "panel-department-field" : "panel-people-field").value = assignee.field;
      }
      $("panel-once").checked = optionValue(bo, "once_per_ticket") === true;
      var approval = firstOf(bo, "flowdesk:Approval");
      $("panel-mode").value = (approval && approval.mode) || "single";
      var percent = approval && approval.pass_percent;
      // a rule chosen before its number is typed is in no element yet: keep the choice
      if (percent || (approval && approval.pass_count)) { $("panel-vote-rule").value = percent ? "percent" : "count"; }
      $("panel-vote-value").value = percent ? String(percent) : (approval && approval.pass_count ? String(approval.pass_count) : "");
      $("panel-vote-fail").value = (approval && approval.fail) || "unreachable";
      var resubmit = optionValue(bo, "resubmit");
      $("panel-resubmit").value = typeof resubmit === "string" ? resubmit : "rerun";
      fillPolicies(bo);
      showKind();
    }
    if (isFlow) {
      $("panel-condition").value = (bo.conditionExpression && bo.conditionExpression.body) || "";
      var source = element.source && element.source.businessObject;
      var gateway = source && DEFAULTING[source.$type];
      form.querySelector("[data-gateway-only]").hidden = !gateway;
      $("panel-default").checked = !!(gateway && source.default === bo);
    }
    filling = false;
  }

  // per-node field permissions (ADR 0037): one choice per form field; "" is the node's
  // default (read-only at a step, editable at the start), written as no element
  function fillFields(bo) {
    var access = {};
    extensionValues(bo).forEach(function (v) {
      if (v.$type === "flowdesk:Editable") { access[v.field] = "editable"; }
      if (v.$type === "flowdesk:Field") { access[v.key] = v.access; }
    });
    var isStart = bo.$type === START;
    Array.prototype.forEach.call(form.querySelectorAll("[data-field-access]"), function (choice) {
      var key = choice.getAttribute("data-field-access");
      var value = access[key] || "";
      if (value === (isStart ? "editable" : "read_only")) { value = ""; }
      choice.value = value;
      choice.querySelector('option[value=""]').textContent = choice.getAttribute(isStart ? "data-start-default" : "data-task-default");
    });
  }

  function fieldExtensions() {
    var values = [];
    Array.prototype.forEach.call(form.querySelectorAll("[data-field-access]"), function (choice) {
      if (choice.value) {
        values.push(create("flowdesk:Field", { key: choice.getAttribute("data-field-access"), access: choice.value }));
      }
    });
    return values;
  }

  // --- writing the panel back into the diagram ----------------------------------------

  function create(type, attrs) { return modeler.get("moddle").create(type, attrs); }

  function wholeNumber(text) {
    var n = parseInt(text, 10);
    return isNaN(n) ? undefined : n;
  }

  function nodeExtensions(bo, isTask, isCc) {
    var kept = extensionValues(bo).filter(function (v) {
      if (MANAGED[v.$type]) { return false; }
      if (isCc && v.$type === "flowdesk:Option" && v.key === "type") { return false; }
      // a step that stops being a user task drops the settings only user tasks have
      if (!isTask && v.$type === "flowdesk:Option" && USER_TASK_ONLY[v.key]) { return false; }
      // a setting the writer could only spell as an option is replaced by the panel's element
      return !(isTask && v.$type === "flowdesk:Option" && PANEL_OPTIONS[v.key]);
    });
    var values = [];
    [["zh", $("panel-name-zh").value.trim()], ["en", $("panel-name-en").value.trim()]].forEach(function (pair) {
      if (pair[1]) { values.push(create("flowdesk:Name", { lang: pair[0], body: pair[1] })); }
    });
    if (isTask || isCc) {
      var kind = $("panel-assignee-kind").value;
      if (kind) {
        var attrs = { kind: kind };
        if (kind === "user") { attrs.user = $("panel-user").value.trim(); }
        if (kind === "role") {
          attrs.role = $("panel-role").value.trim();
          if ($("panel-pick").value) { attrs.pick = $("panel-pick").value; }
        }
        if (kind === "field_user") { attrs.field = $("panel-people-field").value; }
        if (kind === "field_department_head") { attrs.field = $("panel-department-field").value; }
        if (kind === "department_head") { attrs.department = $("panel-department").value.trim(); }
        if (kind === "applicant_manager") {
          var level = wholeNumber($("panel-level").value);
          if (level !== undefined && level !== 1) { attrs.level = level; }
        }
        if (kind === "users") {
          attrs.users = $("panel-users").value.split(/[\s,，、]+/).filter(Boolean).map(function (name) {
            return create("flowdesk:User", { body: name });
          });
        }
        values.push(create("flowdesk:Assignee", attrs));
      }
    }
    if (isCc) { values.push(create("flowdesk:Option", { key: "type", body: JSON.stringify("cc") })); }
    if (bo.$type === SERVICE) {
      kept = kept.filter(function (v) { return !(v.$type === "flowdesk:Option" && v.key === "webhook"); });
      values = values.concat(webhookExtensions());
    }
    if (definitionOf(bo, "bpmn:TimerEventDefinition")) {
      kept = kept.filter(function (v) { return !(v.$type === "flowdesk:Option" && v.key === "timer"); });
      var timer = timerSetting(bo.$type === "bpmn:BoundaryEvent");
      values.push(create("flowdesk:Option", { key: "timer", body: JSON.stringify(timer) }));
    }
    if (isCall(bo)) {
      kept = kept.filter(function (v) { return !(v.$type === "flowdesk:Option" && v.key === "call"); });
      values.push(create("flowdesk:Option", { key: "call", body: JSON.stringify(callSetting(bo)) }));
    }
    if (isMessageWait(bo)) {
      kept = kept.filter(function (v) { return !(v.$type === "flowdesk:Option" && v.key === "message"); });
      var message = { name: $("panel-message-name").value.trim(), key: $("panel-message-key").value };
      values.push(create("flowdesk:Option", { key: "message", body: JSON.stringify(message) }));
    }
    if (isTask || bo.$type === START) { values = values.concat(fieldExtensions()); }
    if (isTask) {
      if ($("panel-once").checked) {
        values.push(create("flowdesk:Option", { key: "once_per_ticket", body: "true" }));
      }
      var resubmit = $("panel-resubmit").value;
      if (resubmit !== "rerun") {
        values.push(create("flowdesk:Option", { key: "resubmit", body: JSON.stringify(resubmit) }));
      }
      values = values.concat(policyExtensions());
      var mode = $("panel-mode").value;
      if (mode !== "single") {
        var approval = { mode: mode };
        if (mode === "vote") {
          var needed = wholeNumber($("panel-vote-value").value);
          if (needed !== undefined) {
            approval[$("panel-vote-rule").value === "percent" ? "pass_percent" : "pass_count"] = needed;
          }
          if ($("panel-vote-fail").value === "first_reject") { approval.fail = "first_reject"; }
        }
        values.push(create("flowdesk:Approval", approval));
      }
    }
    return create("bpmn:ExtensionElements", { values: values.concat(kept) });
  }

  function loopFor(mode) {
    if (mode === "single") { return undefined; }
    // the modeler's marker; flowdesk:approval says exactly what it means
    return create("bpmn:MultiInstanceLoopCharacteristics", { isSequential: mode === "sequential" });
  }

  function asUserTask(element) {
    if (element.businessObject.$type === "bpmn:UserTask") { return element; }
    var replaced = modeler.get("bpmnReplace").replaceElement(element, { type: "bpmn:UserTask" });
    modeler.get("selection").select(replaced);
    return replaced;
  }

  function writeBack() {
    if (filling || !current || readOnly) { return; }
    var modeling = modeler.get("modeling");
    var bo = current.businessObject;
    if (bo.$type === "bpmn:SequenceFlow") {
      var text = $("panel-condition").value.trim();
      var old = bo.conditionExpression && bo.conditionExpression.body;
      var changes = {
        conditionExpression: text ? create("bpmn:FormalExpression", { body: text, language: FLOWDESK_EXPRESSION }) : undefined
      };
      // flowdesk labels a flow with its condition; a label of the builder's own stays
      if (!bo.name || bo.name === old) { changes.name = text || undefined; }
      modeling.updateProperties(current, changes);
      var source = current.source;
      if (source && DEFAULTING[source.businessObject.$type]) {
        var isDefault = source.businessObject.default === bo;
        if ($("panel-default").checked !== isDefault) {
          modeling.updateProperties(source, { "default": $("panel-default").checked ? bo : undefined });
        }
      }
      return;
    }
    var isTask = !!TASKS[bo.$type];
    var isCc = bo.$type === CC;
    var element = current;
    if (isTask && ($("panel-assignee-kind").value || $("panel-mode").value !== "single")) {
      element = current = asUserTask(current);
      bo = element.businessObject;
    }
    var zhName = $("panel-name-zh").value.trim();
    var enName = $("panel-name-en").value.trim();
    var label = PAGE_LANG === "zh" ? zhName || enName : enName || zhName;
    var errorCode = $("panel-error-code").value.trim();  // read before a change re-fills the panel
    var props = { extensionElements: nodeExtensions(bo, isTask, isCc) };
    if ((bo.name || "") !== label) { props.name = label || undefined; }
    if (isCall(bo)) { props.calledElement = $("panel-call-app").value.trim() || undefined; }
    if (isTask) {
      var mode = $("panel-mode").value;
      var loop = bo.loopCharacteristics;
      var wanted = mode === "single" ? null : mode === "sequential";
      var has = loop && loop.$type === "bpmn:MultiInstanceLoopCharacteristics" ? !!loop.isSequential : null;
      if (wanted !== has || (loop && has === null)) { props.loopCharacteristics = loopFor(mode); }
    }
    if (bo.$type === "bpmn:BoundaryEvent" && definitionOf(bo, "bpmn:TimerEventDefinition")) {
      // a timer that decides the task interrupts it; one that reminds or escalates does not
      var action = $("panel-timer-action").value;
      props.cancelActivity = !(action === "remind" || action === "escalate");
    }
    modeling.updateProperties(element, props);
    var timerDefinition = definitionOf(element.businessObject, "bpmn:TimerEventDefinition");
    var after = $("panel-timer-after").value.trim().toUpperCase();
    if (timerDefinition && after) {  // what other tools read; flowdesk reads the option
      modeling.updateModdleProperties(element, timerDefinition, {
        timeDuration: create("bpmn:FormalExpression", { body: after }),
        timeCycle: undefined,
        timeDate: undefined
      });
    }
    var thrown = errorDefinition(element.businessObject);
    if (thrown) {
      modeling.updateModdleProperties(element, thrown, { errorRef: errorFor(errorCode) });
    }
  }


  // --- a user task's automatic decision, empty rule, approve-once, withdraw, add-sign ---
  // (policies.py, once.py, withdraw.py, add_sign.py), each a flowdesk:option as write.py
  // spells it

  var keptRequester = "";  // the selected step's on_empty.requester, which the panel does not edit

  function fillPolicies(bo) {
    var auto = optionValue(bo, "auto");
    $("panel-auto-when").value = (auto && typeof auto.when === "string") ? auto.when : "";
    $("panel-auto-action").value = auto && auto.action === "skip" ? "skip" : "approve";
    var onEmpty = optionValue(bo, "on_empty");
    var fallback = onEmpty && onEmpty.assignee;
    var emptyAction = "";
    if (onEmpty && (onEmpty.action === "skip" || onEmpty.action === "approve")) { emptyAction = "skip"; }
    if (onEmpty && (onEmpty.action === "reject" || onEmpty.action === "admin")) { emptyAction = onEmpty.action; }
    keptRequester = (onEmpty && onEmpty.requester) || "";  // YAML-only (ADR 0041): kept as it is
    if (fallback && fallback.kind === "user") { emptyAction = "user"; }
    if (fallback && fallback.kind === "role") { emptyAction = "role"; }
    $("panel-empty-action").value = emptyAction;
    $("panel-empty-user").value = (fallback && fallback.kind === "user" && fallback.user) || "";
    $("panel-empty-role").value = (fallback && fallback.kind === "role" && fallback.role) || "";
    $("panel-approve-once").checked = optionValue(bo, "approve_once") === true;
    $("panel-no-withdraw").checked = optionValue(bo, "withdraw") === false;
    var depth = optionValue(bo, "add_sign_depth");
    $("panel-add-sign-depth").value = typeof depth === "number" ? String(depth) : "";
  }

  function optionElement(key, value) {
    return create("flowdesk:Option", { key: key, body: JSON.stringify(value) });
  }

  function policyExtensions() {
    var values = [];
    var when = $("panel-auto-when").value.trim();
    if (when) {
      var auto = { when: when };
      if ($("panel-auto-action").value === "skip") { auto.action = "skip"; }
      values.push(optionElement("auto", auto));
    }
    var emptyAction = $("panel-empty-action").value;
    var onEmpty = null;
    if (emptyAction === "skip" || emptyAction === "reject" || emptyAction === "admin") { onEmpty = { action: emptyAction }; }
    if (emptyAction === "user") {
      onEmpty = { action: "assign", assignee: { kind: "user", user: $("panel-empty-user").value.trim() } };
    }
    if (emptyAction === "role") {
      onEmpty = { action: "assign", assignee: { kind: "role", role: $("panel-empty-role").value.trim() } };
    }
    if (onEmpty) {
      if (keptRequester) { onEmpty.requester = keptRequester; }
      values.push(optionElement("on_empty", onEmpty));
    }
    if ($("panel-approve-once").checked) { values.push(optionElement("approve_once", true)); }
    if ($("panel-no-withdraw").checked) { values.push(optionElement("withdraw", false)); }
    var depth = wholeNumber($("panel-add-sign-depth").value);
    if (depth !== undefined) { values.push(optionElement("add_sign_depth", depth)); }
    return values;
  }

  // --- a service task's webhook (webhook.py, ADR 0024) --------------------------------

  function fillWebhook(bo) {
    var hook = optionValue(bo, "webhook") || {};
    $("panel-webhook-url").value = typeof hook.url === "string" ? hook.url : "";
    $("panel-webhook-secret").value = typeof hook.secret === "string" ? hook.secret : "";
    var lines = function (map, between) {
      if (!map || typeof map !== "object") { return ""; }
      return Object.keys(map).map(function (key) { return key + between + map[key]; }).join("\n");
    };
    $("panel-webhook-body").value = lines(hook.body, " = ");
    $("panel-webhook-headers").value = lines(hook.headers, ": ");
  }

  // "key = value" / "Name: value" lines as a map; the engine checks the names and values
  function pairs(text, separator) {
    var map = {};
    text.split(/\n/).forEach(function (line) {
      var at = line.indexOf(separator);
      if (at < 0) { if (line.trim()) { map[line.trim()] = ""; } return; }
      var key = line.slice(0, at).trim();
      if (key) { map[key] = line.slice(at + 1).trim(); }
    });
    return map;
  }

  function webhookExtensions() {
    var hook = { url: $("panel-webhook-url").value.trim() };
    var secret = $("panel-webhook-secret").value.trim();
    if (secret) { hook.secret = secret; }
    var body = pairs($("panel-webhook-body").value, "=");
    if (Object.keys(body).length) { hook.body = body; }
    var headers = pairs($("panel-webhook-headers").value, ":");
    if (Object.keys(headers).length) { hook.headers = headers; }
    return [optionElement("webhook", hook)];
  }

  // --- process-wide settings: the process element's own extension elements --------------

  function processObject() {
    if (!modeler) { return null; }
    var rootElement = modeler.get("canvas").getRootElement();
    var bo = rootElement && rootElement.businessObject;
    return bo && bo.$type === "bpmn:Process" ? rootElement : null;
  }

  function fillProcess() {
    var rootElement = processObject();
    processForm.hidden = !rootElement;
    if (!rootElement) { return; }
    $("process-once").checked = optionValue(rootElement.businessObject, "once_per_ticket") === true;
  }

  function writeProcess() {
    var rootElement = processObject();
    if (!rootElement || readOnly) { return; }
    var bo = rootElement.businessObject;
    var values = extensionValues(bo).filter(function (v) {
      return !(v.$type === "flowdesk:Option" && v.key === "once_per_ticket");
    });
    if ($("process-once").checked) { values.push(optionElement("once_per_ticket", true)); }
    modeler.get("modeling").updateProperties(rootElement, {
      extensionElements: values.length ? create("bpmn:ExtensionElements", { values: values }) : undefined
    });
  }

  // --- publish problems shown at their element: a marker on the canvas, a list in the panel

  var problemsAt = {};

  function rememberProblems(details) {
    var canvas = modeler && modeler.get("canvas");
    Object.keys(problemsAt).forEach(function (id) {
      if (canvas && modeler.get("elementRegistry").get(id)) { canvas.removeMarker(id, "fd-problem"); }
    });
    problemsAt = {};
    (details || []).forEach(function (d) {
      if (!d.element) { return; }
      (problemsAt[d.element] = problemsAt[d.element] || []).push(d);
      if (canvas && modeler.get("elementRegistry").get(d.element)) { canvas.addMarker(d.element, "fd-problem"); }
    });
    showElementProblems(current && current.businessObject && current.businessObject.id);
  }

  function showElementProblems(id) {
    var box = $("panel-problems");
    var list = $("panel-problems-list");
    var found = (id && problemsAt[id]) || [];
    list.textContent = "";
    found.forEach(function (d) {
      var item = document.createElement("li");
      var code = document.createElement("code");
      code.textContent = d.path;
      item.appendChild(code);
      item.appendChild(document.createTextNode(" " + d.code + (d.message ? " (" + d.message + ")" : "")));
      list.appendChild(item);
    });
    box.hidden = !found.length;
  }

  // --- error codes (error end and error boundary events, ADR 0022) --------------------

  function errorDefinition(bo) {
    var found = (bo && bo.eventDefinitions) || [];
    for (var i = 0; i < found.length; i++) {
      if (found[i].$type === "bpmn:ErrorEventDefinition") { return found[i]; }
    }
    return null;
  }

  // the document's <bpmn:error> with this code, added when there is none yet
  function errorFor(code) {
    if (!code) { return undefined; }
    var definitions = modeler.getDefinitions();
    definitions.rootElements = definitions.rootElements || [];
    var roots = definitions.rootElements;
    var taken = {};
    for (var i = 0; i < roots.length; i++) {
      if (roots[i].$type === "bpmn:Error" && (roots[i].errorCode || roots[i].name) === code) { return roots[i]; }
      taken[roots[i].id] = true;
    }
    var base = "Error_" + code.replace(/[^A-Za-z0-9_.-]/g, "_");
    var id = base;
    for (var n = 2; taken[id] || modeler.get("elementRegistry").get(id); n++) { id = base + "_" + n; }
    var error = create("bpmn:Error", { id: id, name: code, errorCode: code });
    error.$parent = definitions;
    roots.push(error);
    return error;
  }

  form.addEventListener("change", function () { showKind(); writeBack(); });
  processForm.addEventListener("change", writeProcess);
  processForm.addEventListener("submit", function (event) { event.preventDefault(); });
  form.addEventListener("submit", function (event) { event.preventDefault(); });

  // --- check and publish --------------------------------------------------------------

  function selectElement(id) {
    var element = modeler.get("elementRegistry").get(id);
    if (!element) { return; }
    try { modeler.get("selection").select(element); } catch (e) { /* the viewer has no selection */ }
    try { modeler.get("canvas").scrollToElement(element); } catch (e) { /* older canvas */ }
    fill(element);
    canvasBox.scrollIntoView({ block: "nearest" });
  }

  function listDetails(details, heading) {
    if (!details || !details.length) { return; }
    var head = document.createElement("li");
    head.className = "designer-problems-head";
    head.textContent = heading;
    problemsBox.appendChild(head);
    details.forEach(function (d) {
      var item = document.createElement("li");
      item.setAttribute("data-testid", "designer-problem");
      if (d.element && modeler.get("elementRegistry").get(d.element)) {
        var button = document.createElement("button");
        button.type = "button";
        button.className = "link-button";
        button.setAttribute("data-element", d.element);
        button.textContent = d.path;
        button.addEventListener("click", function () { selectElement(d.element); });
        item.appendChild(button);
      } else if (d.path) {
        var code = document.createElement("code");
        code.textContent = d.path;
        item.appendChild(code);
      }
      var text = document.createElement("span");
      text.textContent = " " + d.code + (d.message ? " (" + d.message + ")" : "");
      item.appendChild(text);
      problemsBox.appendChild(item);
    });
  }

  function send(url) {
    problemsBox.textContent = "";
    rememberProblems([]);
    setStatus(data.msgChecking);
    checkButton.disabled = publishButton.disabled = true;
    return modeler.saveXML({ format: true }).then(function (saved) {
      return fetch(url, {
        method: "POST",
        credentials: "same-origin",
        headers: { "Content-Type": "application/xml", "X-CSRF-Token": data.csrf },
        body: saved.xml
      });
    }).then(function (response) {
      return response.json().then(function (body) { return { status: response.status, body: body }; }, function () {
        return { status: response.status, body: null };
      });
    }).then(function (answer) {
      var body = answer.body;
      if (!body) { setStatus(data.msgFailed); return null; }
      if (!body.ok) {
        setStatus(data.msgInvalid);
        listDetails(body.errors, "");
        rememberProblems(body.errors);
        return null;
      }
      listDetails(body.warnings, data.msgWarnings);
      return body;
    }, function () {
      setStatus(data.msgFailed);
      return null;
    }).then(function (body) {
      checkButton.disabled = publishButton.disabled = false;
      statusBox.focus();
      return body;
    });
  }

  checkButton.addEventListener("click", function () {
    send(data.checkUrl).then(function (body) { if (body) { setStatus(data.msgValid); } });
  });

  publishButton.addEventListener("click", function () {
    send(data.publishUrl).then(function (body) {
      if (!body) { return; }
      var template = body.changed ? data.msgPublished : data.msgUnchanged;
      setStatus(template.replace("{version}", String(body.version)));
      setDirty(false);
    });
  });

  // The export labels each element with its Chinese name; the page shows the names of its
  // own language (flowdesk:name), which the reader takes back as that language's name.
  function labelledIn(xml, lang) {
    var doc = new DOMParser().parseFromString(xml, "application/xml");
    if (doc.getElementsByTagName("parsererror").length) { return xml; }
    var names = doc.getElementsByTagNameNS("https://flowdesk.dev/schema/bpmn", "name");
    Array.prototype.forEach.call(names, function (name) {
      var owner = name.parentNode && name.parentNode.parentNode;
      if (name.getAttribute("lang") === lang && owner && owner.nodeType === 1 && name.textContent) {
        owner.setAttribute("name", name.textContent);
      }
    });
    return new XMLSerializer().serializeToString(doc);
  }

  // --- start --------------------------------------------------------------------------

  if (readOnly) {
    root.classList.add("is-read-only");
    $("panel-fieldset").disabled = true;
    $("process-fieldset").disabled = true;
    checkButton.hidden = publishButton.hidden = true;
  }
  Promise.all([
    loadScript(readOnly ? data.viewerSrc : data.modelerSrc),
    fetchOk(data.moddleUrl, "json"),
    fetchOk(data.xmlUrl, "text")
  ]).then(function (loaded) {
    modeler = new window.BpmnJS({ container: canvasBox, moddleExtensions: { flowdesk: loaded[1] } });
    return modeler.importXML(labelledIn(loaded[2], PAGE_LANG));
  }).then(function () {
    $("designer-loading").hidden = true;
    modeler.get("canvas").zoom("fit-viewport", "auto");
    modeler.on("selection.changed", function (event) { fill(event.newSelection[0]); });
    fillProcess();
    // the read-only viewer has no selection: a click shows the element's settings
    if (readOnly) { modeler.on("element.click", function (event) { fill(event.element); }); }
    modeler.on("commandStack.changed", function () { if (!readOnly) { setDirty(true); } });
    // a change in the diagram (a label typed on the canvas) shows in the panel
    modeler.on("elements.changed", function () { if (current && !filling) { fill(current); } });
    checkButton.disabled = publishButton.disabled = false;
    root.setAttribute("data-ready", "1");
  }).catch(function () {
    setStatus(data.msgLoadFailed);
  });
})();
