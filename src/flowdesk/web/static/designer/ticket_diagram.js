// flowdesk: the ticket page's process diagram. Nothing is fetched until the reader opens
// it: then the bpmn-js navigated viewer (vendored), its styles and the ticket's diagram
// (GET /tickets/{id}/diagram, read like the ticket) are loaded, and the current and
// passed steps are marked. The diagram adds to the steps and timeline; it replaces nothing.
(function () {
  "use strict";
  var details = document.getElementById("ticket-diagram");
  if (!details) { return; }
  var started = false;

  function loadScript(src) {
    return new Promise(function (resolve, reject) {
      var script = document.createElement("script");
      script.src = src;
      script.onload = resolve;
      script.onerror = function () { reject(new Error("script " + src)); };
      document.head.appendChild(script);
    });
  }

  function loadStyles(hrefs) {
    hrefs.split(" ").filter(Boolean).forEach(function (href) {
      var link = document.createElement("link");
      link.rel = "stylesheet";
      link.href = href;
      document.head.appendChild(link);
    });
  }

  // The export labels each step with its Chinese name; show the page's language instead.
  function labelledIn(xml) {
    var lang = document.documentElement.lang.indexOf("zh") === 0 ? "zh" : "en";
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

  // Under a current step: who holds it, and how they decide ("Any one of" for 或签).
  function holdersNote(viewer, id, diagram) {
    var names = (diagram.holders && diagram.holders[id]) || [];
    if (!names.length) { return; }
    var mode = diagram.modes && diagram.modes[id];
    var template = details.getAttribute("data-mode-" + mode) || "{names}";
    var note = document.createElement("div");
    note.className = "fd-holders";
    note.setAttribute("data-testid", "diagram-holders");
    note.textContent = template.replace("{names}", names.join(details.dataset.listSep));
    var shape = viewer.get("elementRegistry").get(id);
    if (!shape) { return; }
    // not scaled with a diagram fitted small: the names stay readable
    viewer.get("overlays").add(id, "fd-holders", { position: { top: shape.height + 4, left: 0 }, html: note, scale: false });
  }

  function fail() {
    var box = document.getElementById("ticket-diagram-error");
    box.textContent = details.dataset.msgFailed;
    box.hidden = false;
  }

  function start() {
    if (started) { return; }
    started = true;
    loadStyles(details.dataset.styles);
    var answer = fetch(details.dataset.diagramUrl, { credentials: "same-origin" }).then(function (response) {
      if (!response.ok) { throw new Error("diagram " + response.status); }
      return response.json();
    });
    Promise.all([loadScript(details.dataset.viewerSrc), answer]).then(function (loaded) {
      var diagram = loaded[1];
      var container = document.getElementById("ticket-diagram-canvas");
      var viewer = new window.BpmnJS({ container: container });
      return viewer.importXML(labelledIn(diagram.bpmn)).then(function () {
        var canvas = viewer.get("canvas");
        canvas.zoom("fit-viewport", "auto");
        diagram.passed.forEach(function (id) { canvas.addMarker(id, "fd-passed"); });
        diagram.current.forEach(function (id) {
          canvas.addMarker(id, "fd-current");
          holdersNote(viewer, id, diagram);
        });
        container.setAttribute("data-ready", "1");
      });
    }).catch(fail);
  }

  details.addEventListener("toggle", function () { if (details.open) { start(); } });
  if (details.open) { start(); }
})();
