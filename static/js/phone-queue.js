// The carer's phone: what was recorded offline, kept in IndexedDB (through the
// idb library) and sent in order, each with its Idempotency-Key, by the page
// and by the service worker (background sync). Shared by both: no DOM here.
(function (root) {
  "use strict";

  var STORES = ["queue", "problems", "meta"];
  var flushing = null;
  var sending = null; // the AbortController of the request on its way
  // a request begun on a signal that died can wait minutes for an answer that
  // never comes; it is given up after this (sent again later, with its key)
  var SEND_WAIT_MS = 30000;

  function open(scope) {
    var opened = null;
    return root.idb.openDB("carehub:" + scope, 1, {
      upgrade: function (db) {
        db.createObjectStore("queue", { keyPath: "seq", autoIncrement: true });
        db.createObjectStore("problems", { keyPath: "key" });
        db.createObjectStore("meta", { keyPath: "name" });
      },
      // another context removes the copy (sign-out, membership ended): let it
      blocking: function () { if (opened) opened.close(); },
    }).then(function (db) { opened = db; return db; });
  }

  function uuid() {
    if (root.crypto && root.crypto.randomUUID) return root.crypto.randomUUID();
    var b = root.crypto.getRandomValues(new Uint8Array(16));
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    var h = Array.prototype.map.call(b, function (x) { return (x + 0x100).toString(16).slice(1); }).join("");
    return h.slice(0, 8) + "-" + h.slice(8, 12) + "-" + h.slice(12, 16) + "-" + h.slice(16, 20) + "-" + h.slice(20);
  }

  async function meta(db, name) {
    var row = await db.get("meta", name);
    return row ? row.value : null;
  }

  function setMeta(db, name, value) {
    return db.put("meta", { name: name, value: value });
  }

  // kind: "check-in" | "check-out" | "incident"; made_at: the phone's time of the action
  async function enqueue(db, entry) {
    entry.key = entry.key || uuid();
    entry.made_at = entry.made_at || new Date().toISOString();
    await db.add("queue", entry);
    return entry;
  }

  function all(db, store) {
    return db.getAll(store);
  }

  // Send what waits, oldest first. A refusal (a 4xx with its message) is moved
  // to the problems the carer sees; a network failure or a server error stops
  // (sent again later, with the same key: the server answers it once).
  // renew(): a new token when the server no longer takes this one (the page
  // can ask for one; the service worker cannot); it returns the token, null
  // (sign in again), or "ended" (the membership ended: everything is removed).
  // restart: the signal is back (the "online" event): a request still on its
  // way went out on the signal that died, so it is given up and the queue is
  // sent again at once rather than after SEND_WAIT_MS.
  function flush(db, renew, restart) {
    if (flushing && restart) {
      if (sending) sending.abort();
      return flushing.then(function () { return flush(db, renew, false); });
    }
    if (flushing) return flushing;
    flushing = run(db, renew).finally(function () { flushing = null; });
    return flushing;
  }

  async function run(db, renew) {
    var sent = 0;
    var refused = 0;
    for (;;) {
      var cursor = await db.transaction("queue").store.openCursor();
      if (!cursor) return { sent: sent, refused: refused, stopped: null };
      var entry = cursor.value;
      var token = await meta(db, "token");
      if (!token && renew) token = await renew();
      if (token === "ended") return { sent: sent, stopped: "ended" };
      if (!token) return { sent: sent, stopped: "signin" };
      var response;
      var controller = new AbortController();
      var timer = setTimeout(function () { controller.abort(); }, SEND_WAIT_MS);
      sending = controller;
      try {
        response = await fetch(entry.url, {
          method: "POST",
          credentials: "omit",
          cache: "no-store",
          signal: controller.signal,
          headers: {
            Authorization: "Bearer " + token,
            "Content-Type": "application/json",
            "Idempotency-Key": entry.key,
            "X-Phone-Sent-At": new Date().toISOString(),
          },
          body: JSON.stringify(entry.body),
        });
      } catch (error) {
        return { sent: sent, stopped: "offline" };
      } finally {
        clearTimeout(timer);
        sending = null;
      }
      if (response.status === 401) {
        await db.delete("meta", "token");
        if (!renew) return { sent: sent, stopped: "signin" };
        continue;
      }
      if (response.status >= 500 || response.status === 429) return { sent: sent, stopped: "server" };
      var answer = null;
      try { answer = await response.json(); } catch (e) { answer = null; }
      if (!response.ok) {
        refused += 1;
        await db.put("problems", {
          key: entry.key, kind: entry.kind, label: entry.label, visit: entry.visit, made_at: entry.made_at,
          message: answer && answer.error ? answer.error.message : String(response.status),
          status: response.status, tone: "refused",
        });
      } else if (answer && answer.warnings && answer.warnings.length) {
        // checked in, and told of something (a certificate lapsed): shown until read
        await db.put("problems", {
          key: entry.key, kind: entry.kind, label: entry.label, visit: entry.visit, made_at: entry.made_at,
          message: answer.warnings.join(" "), status: response.status, tone: "warning",
        });
      }
      await db.delete("queue", entry.seq);
      sent += 1;
    }
  }

  // A page's form (as [name, value] pairs) posted where the network failed
  // under the service worker (the phone said it was online): the queue entry
  // the API takes, and the page to show instead. null: not a form of the queue.
  var UUID = "([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})";
  function fromForm(path, scope, pairs) {
    var form = {};
    var many = {};
    pairs.forEach(function (p) {
      form[p[0]] = p[1];
      (many[p[0]] = many[p[0]] || []).push(p[1]);
    });
    var made = new Date().toISOString();
    var m = new RegExp("/visits/" + UUID + "/check-in$").exec(path);
    if (m) {
      var body = { phone_time: made };
      if (form.latitude && form.longitude) { body.latitude = Number(form.latitude); body.longitude = Number(form.longitude); }
      if (form.presence_code) body.presence_code = form.presence_code;
      return { next: scope + "visits/" + m[1], entry: { kind: "check-in", visit: m[1], url: "/api/v1/visits/" + m[1] + "/check-in", body: body, label: "", made_at: made } };
    }
    m = new RegExp("/visits/" + UUID + "/check-out$").exec(path);
    if (m) {
      var record = { phone_time: made, checklist: [] };
      var points = Number(form.checklist_length || 0);
      for (var i = 0; i < points; i++) record.checklist.push(form["point-" + i] === "on");
      Object.keys(form).forEach(function (name) {
        if (name === "csrf_token" || name === "checklist_length" || /^point-\d+$/.test(name)) return;
        record[name] = name === "needs_attention" ? form[name] === "y" : form[name];
      });
      if (record.needs_attention === undefined) record.needs_attention = false;
      return { next: scope + "my/schedule", entry: { kind: "check-out", visit: m[1], url: "/api/v1/visits/" + m[1] + "/check-out", body: record, label: "", made_at: made } };
    }
    if (/\/incidents\/new$/.test(path)) {
      var report = {};
      ["type", "severity", "occurred_at", "place", "description", "people_involved", "immediate_response", "visit_id", "client_id"]
        .forEach(function (name) { if (form[name]) report[name] = form[name]; });
      report.staff_ids = many.staff_file_ids || [];
      var next = report.visit_id ? scope + "visits/" + report.visit_id : scope + "my/schedule";
      return { next: next, entry: { kind: "incident", visit: report.visit_id || null, url: "/api/v1/incidents", body: report, label: "", made_at: made } };
    }
    return null;
  }

  async function wipe(scope) {
    var names = await root.caches.keys();
    await Promise.all(names.filter(function (n) { return n.indexOf("carehub-pages:" + scope) === 0; })
      .map(function (n) { return root.caches.delete(n); }));
    await root.idb.deleteDB("carehub:" + scope);
  }

  root.CarehubQueue = {
    open: open, enqueue: enqueue, flush: flush, all: all, meta: meta, setMeta: setMeta,
    wipe: wipe, uuid: uuid, fromForm: fromForm, STORES: STORES,
  };
})(typeof self !== "undefined" ? self : window);
