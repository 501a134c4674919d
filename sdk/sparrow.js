/* Sparrow: Tandem's browser SDK. No dependencies. */
(function (w) {
  "use strict";
  var script = document.currentScript;
  var origin = script && script.src ? new URL(script.src, location.href).origin : location.origin;
  var cfg = { endpoint: origin + "/v1/events" };
  var userId;
  var KEY = "sparrow.deviceId";

  function rid() {
    if (w.crypto && crypto.randomUUID) return crypto.randomUUID();
    return "d-" + Date.now().toString(36) + "-" + Math.random().toString(36).slice(2);
  }

  function deviceId() {
    var id;
    try {
      id = localStorage.getItem(KEY);
      if (!id) localStorage.setItem(KEY, (id = rid()));
    } catch (e) {
      id = id || (cfg._mem = cfg._mem || rid());
    }
    return id;
  }

  function send(event, properties) {
    var body = { event: String(event), deviceId: deviceId(), properties: properties || {} };
    if (userId) body.userId = userId;
    var text = JSON.stringify(body);
    // sendBeacon survives page unload; its text/plain body needs no CORS preflight.
    try {
      if (navigator.sendBeacon && navigator.sendBeacon(cfg.endpoint, new Blob([text], { type: "text/plain" }))) return;
    } catch (e) {}
    try {
      fetch(cfg.endpoint, { method: "POST", body: text, keepalive: true, headers: { "Content-Type": "text/plain" } })["catch"](function () {});
    } catch (e) {}
  }

  w.sparrow = {
    init: function (o) {
      if (o && o.endpoint) cfg.endpoint = o.endpoint;
    },
    pageview: function (pathname) {
      send("pageview", { path: pathname || location.pathname, referrer: document.referrer, title: document.title });
    },
    track: send,
    identify: function (id) {
      userId = id ? String(id) : undefined;
    }
  };
})(window);
