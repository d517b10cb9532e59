// The carer's phone without signal. On the carer's pages (schedule, visit,
// check-out, incident report): installs the service worker, keeps the next 7
// days' pages on the phone; without signal, queues check-in, check-out and
// incident reports (each with an Idempotency-Key and the phone's own time) and
// sends them in order when the network is back, shows "waiting to send (n)"
// and, in plain words, anything the office's side refused. With signal the
// forms post as the pages do. Sign-out removes the copy.
(function () {
  "use strict";
  var node = document.getElementById("carehub-phone");
  if (!node || !window.CarehubQueue || !window.indexedDB) return;
  var config = JSON.parse(node.textContent);
  var t = config.t;
  var Q = window.CarehubQueue;
  var dbp = Q.open(config.scope);
  var main = document.querySelector("main") || document.body;
  var REFRESH_EVERY_MS = 30 * 60 * 1000;

  function fmt(text, values) {
    return text.replace(/%\((\w+)\)[sd]/g, function (_m, k) { return values[k]; });
  }
  function clock(iso) {
    return new Date(iso).toLocaleTimeString(config.lang, { hour: "2-digit", minute: "2-digit" });
  }
  function when(iso) {
    return new Date(iso).toLocaleString(config.lang, { weekday: "short", hour: "2-digit", minute: "2-digit" });
  }
  function make(tag, className, text) {
    var e = document.createElement(tag);
    if (className) e.className = className;
    if (text) e.textContent = text;
    return e;
  }
  function csrf() {
    var input = document.querySelector("input[name=csrf_token]");
    return input ? input.value : "";
  }

  // -- what the page shows ------------------------------------------------------------------
  var status = make("p", "phone-status muted");
  status.setAttribute("role", "status");
  status.dataset.testid = "phone-status";
  var badge = make("p", "queue-badge");
  badge.dataset.testid = "queue-badge";
  badge.hidden = true;
  var problems = make("div", "flash flash-error phone-problems");
  problems.setAttribute("role", "alert");
  problems.dataset.testid = "phone-problems";
  problems.hidden = true;
  main.insertBefore(problems, main.firstChild);
  main.insertBefore(badge, main.firstChild);
  main.insertBefore(status, main.firstChild);

  var pageVisit = (document.querySelector("[data-phone-visit]") || { dataset: {} }).dataset.phoneVisit;
  // what the page before this one said it did (saved offline, sent)
  var told = sessionStorage.getItem("carehub-phone-told");
  if (told) {
    sessionStorage.removeItem("carehub-phone-told");
    var flash = make("div", "flash flash-success", told);
    flash.setAttribute("role", "status");
    main.insertBefore(flash, problems.nextSibling);
  }
  var overlaid = false;

  function kindLabel(kind) {
    return t["kind_" + kind.replace("-", "_")] || kind;
  }

  async function render() {
    var db = await dbp;
    var queue = await Q.all(db, "queue");
    var refused = await Q.all(db, "problems");
    badge.hidden = queue.length === 0;
    badge.textContent = fmt(t.waiting, { n: queue.length });

    problems.hidden = refused.length === 0;
    problems.textContent = "";
    [["refused", t.problems_title], ["warning", t.warnings_title]].forEach(function (tone) {
      var these = refused.filter(function (p) { return (p.tone || "refused") === tone[0]; });
      if (!these.length) return;
      problems.appendChild(make("p", null, tone[1]));
      var list = make("ul", "list");
      these.forEach(function (p) {
        var item = make("li");
        item.appendChild(make("strong", null, kindLabel(p.kind) + " · " + (p.label || "") + " · " + when(p.made_at)));
        item.appendChild(make("span", null, " " + p.message + " "));
        var ok = make("button", "link", t.dismiss);
        ok.type = "button";
        ok.addEventListener("click", async function () { await db.delete("problems", p.key); render(); });
        item.appendChild(ok);
        list.appendChild(item);
      });
      problems.appendChild(list);
    });

    // what waits, shown where it belongs; what went, no longer
    var waitingKeys = queue.map(function (e) { return e.key; });
    document.querySelectorAll("[data-queued]").forEach(function (note) {
      if (waitingKeys.indexOf(note.dataset.queued) < 0) note.remove();
    });
    var mine = queue.filter(function (e) { return pageVisit && e.visit === pageVisit; });
    if (!mine.some(function (e) { return e.kind === "check-in"; })) {
      // no check-in waits (any more): the page as the server made it
      document.querySelectorAll("[data-overlay]").forEach(function (e) { e.remove(); });
      var own = document.querySelector("form[data-offline=checkin]");
      if (own) own.hidden = false;
    }
    overlaid = overlaid || mine.length > 0;
    mine.forEach(function (entry) {
      if (document.querySelector('[data-queued="' + entry.key + '"]')) return;
      var note = make("p", "queued-note tag warn");
      note.dataset.queued = entry.key;
      note.dataset.testid = "queued-" + entry.kind;
      var text = { "check-in": t.checked_in_waiting, "check-out": t.checked_out_waiting, incident: t.incident_waiting }[entry.kind];
      note.textContent = fmt(text, { time: clock(entry.made_at) });
      var sheet = document.querySelector("[data-phone-visit]");
      sheet.appendChild(note);
      if (entry.kind === "check-in") {
        var form = document.querySelector("form[data-offline=checkin]");
        if (form) form.hidden = true;
        if (!document.querySelector("[data-checkout-link]") && sheet.dataset.checkoutUrl) {
          var p = make("p");
          p.dataset.overlay = "1";
          var a = make("a", "button primary big", t.checkout_link);
          a.href = sheet.dataset.checkoutUrl;
          a.dataset.checkoutLink = "1";
          p.appendChild(a);
          sheet.appendChild(p);
        }
      }
      if (entry.kind === "check-out") {
        document.querySelectorAll("[data-checkout-link]").forEach(function (a) { a.hidden = true; });
      }
    });
    document.querySelectorAll(".visit-card[data-visit]").forEach(function (card) {
      var waiting = queue.some(function (e) { return e.visit === card.dataset.visit; });
      var tag = card.querySelector(".queued-tag");
      if (waiting && !tag) {
        tag = make("span", "tag warn queued-tag", t.waiting_short);
        card.appendChild(tag);
      } else if (!waiting && tag) {
        tag.remove();
      }
    });

    var refreshed = await Q.meta(db, "refreshed");
    if (!navigator.onLine) {
      status.textContent = refreshed ? fmt(t.offline_copy, { time: when(refreshed) }) : t.offline_nocopy;
      status.className = "phone-status offline";
    } else if (refreshed) {
      status.textContent = fmt(t.saved_at, { time: when(refreshed) });
      status.className = "phone-status muted";
    } else {
      status.textContent = "";
    }
  }

  // -- the phone's token ----------------------------------------------------------------------
  async function ended() {
    var db = await dbp;
    db.close();
    await Q.wipe(config.scope);
    dbp = Q.open(config.scope);
    status.textContent = t.ended;
    return "ended";
  }

  async function renew() {
    if (!navigator.onLine) return null;
    var response;
    try {
      response = await fetch(config.token, {
        method: "POST",
        credentials: "same-origin",
        redirect: "manual",
        headers: { "X-CSRFToken": csrf(), Accept: "application/json" },
      });
    } catch (error) {
      return null;
    }
    if (response.status === 404) return ended(); // no longer a member of this agency
    if (!response.ok || response.type === "opaqueredirect") return null; // signed out: sign in again
    var body = await response.json();
    var db = await dbp;
    await Q.setMeta(db, "token", body.token);
    await Q.setMeta(db, "token_id", body.token_id);
    return body.token;
  }

  async function send(restart) {
    var db = await dbp;
    var result = await Q.flush(db, renew, restart);
    if (result.stopped === "signin") status.textContent = t.signin_again;
    await render();
    // what the page shows came from before the sending: show the server's
    // (not after a refusal: the message stays on this page, and the visit's
    // page may be another carer's now)
    if (result.sent && !result.refused && overlaid && navigator.onLine && !result.stopped) {
      sessionStorage.setItem("carehub-phone-told", t.sent);
      location.reload();
    }
    return result;
  }

  function backgroundSync() {
    if (!("serviceWorker" in navigator)) return;
    navigator.serviceWorker.ready.then(function (reg) {
      if (reg.sync) return reg.sync.register("carehub-queue");
    }).catch(function () {});
  }

  async function queue(entry) {
    var db = await dbp;
    await Q.enqueue(db, entry);
    backgroundSync();
    await render();
    return send();
  }

  // -- check-in, with the position or the home's code -------------------------------------------
  function position() {
    return new Promise(function (resolve) {
      if (!navigator.geolocation) return resolve(null);
      var timer = setTimeout(function () { resolve(null); }, 8000);
      navigator.geolocation.getCurrentPosition(function (pos) {
        clearTimeout(timer);
        resolve([Number(pos.coords.latitude.toFixed(6)), Number(pos.coords.longitude.toFixed(6))]);
      }, function () { clearTimeout(timer); resolve(null); }, { enableHighAccuracy: true, timeout: 7000 });
    });
  }

  var checkin = document.querySelector("form[data-offline=checkin]");
  if (checkin) {
    var busy = false;
    // With signal the form is posted as the page does (the server's time, its
    // messages); without, it waits in the queue with the phone's time.
    checkin.addEventListener("submit", async function (event) {
      event.preventDefault();
      if (busy) return;
      busy = true;
      var made = new Date().toISOString();
      var body = { phone_time: made };
      var code = checkin.querySelector("[name=presence_code]");
      if (code && code.value) body.presence_code = code.value;
      if (checkin.dataset.geo === "on") {
        var pos = await position();
        if (pos) { body.latitude = pos[0]; body.longitude = pos[1]; }
      }
      if (navigator.onLine) {
        if (body.latitude !== undefined) {
          checkin.querySelector("[name=latitude]").value = body.latitude;
          checkin.querySelector("[name=longitude]").value = body.longitude;
        }
        checkin.submit();
        return;
      }
      await queue({ kind: "check-in", visit: pageVisit, url: checkin.dataset.api, body: body, label: checkin.dataset.label, made_at: made });
      busy = false;
    });
  }

  // the home's code, photographed at check-in (which it then sends) or check-out
  document.querySelectorAll("input[data-scan]").forEach(function (scan) {
    scan.addEventListener("change", function () {
      if (scan.files && scan.files[0]) readCode(scan.closest("form"), scan.files[0]);
    });
  });

  function scanMessage(text, ok) {
    var out = document.querySelector("[data-scan-message]");
    out.hidden = false;
    out.textContent = text;
    out.className = ok ? "scan-message tag ok" : "scan-message error";
  }

  function loadDecoder() {
    if (window.jsQR) return Promise.resolve(window.jsQR);
    return new Promise(function (resolve, reject) {
      var s = document.createElement("script");
      s.src = config.decoder;
      s.onload = function () { resolve(window.jsQR); };
      s.onerror = reject;
      document.head.appendChild(s);
    });
  }

  // The photo of the code, read on the phone (no signal needed): jsQR on the
  // image's pixels, made smaller first (a phone photo is large).
  async function decode(file) {
    var jsQR = await loadDecoder();
    var bitmap = await createImageBitmap(file);
    var scale = Math.min(1, 1200 / Math.max(bitmap.width, bitmap.height));
    var canvas = document.createElement("canvas");
    canvas.width = Math.round(bitmap.width * scale);
    canvas.height = Math.round(bitmap.height * scale);
    var ctx = canvas.getContext("2d");
    ctx.drawImage(bitmap, 0, 0, canvas.width, canvas.height);
    var pixels = ctx.getImageData(0, 0, canvas.width, canvas.height);
    var found = jsQR(pixels.data, pixels.width, pixels.height, { inversionAttempts: "attemptBoth" });
    return found ? found.data : null;
  }

  async function readCode(form, file) {
    var text = null;
    try { text = await decode(file); } catch (error) { text = null; }
    var prefix = "carehub-presence:";
    if (!text || text.indexOf(prefix) !== 0) return scanMessage(t.qr_none, false);
    var parts = text.slice(prefix.length).split(".");
    // checked here without signal: whose code and which version; the signature on the server
    if (parts[0] !== form.dataset.client) return scanMessage(t.qr_other, false);
    if (parts[1] !== form.dataset.presenceVersion) return scanMessage(t.qr_old, false);
    form.querySelector("[name=presence_code]").value = text;
    if (form === checkin) {
      scanMessage(t.qr_read, true);
      form.requestSubmit();
    } else {
      scanMessage(t.qr_read_out, true);
    }
  }

  // -- check-out with the service record --------------------------------------------------------
  function fieldError(input, text) {
    var box = input.closest(".field") || input.parentNode;
    var old = box.querySelector(".error[data-phone]");
    if (old) old.remove();
    if (!text) return;
    var p = make("p", "error", text);
    p.dataset.phone = "1";
    p.setAttribute("role", "alert");
    box.classList.add("has-error");
    input.setAttribute("aria-invalid", "true");
    box.appendChild(p);
  }

  function required(form, names) {
    var first = null;
    names.forEach(function (name) {
      var input = form.querySelector("[name=" + name + "]");
      if (!input) return;
      var empty = !String(input.value || "").trim();
      fieldError(input, empty ? t.required : null);
      if (empty && !first) first = input;
    });
    if (first) first.focus();
    return !first;
  }

  var checkout = document.querySelector("form[data-offline=checkout]");
  if (checkout) {
    checkout.addEventListener("submit", async function (event) {
      if (!required(checkout, ["what_was_done"])) return event.preventDefault();
      if (navigator.onLine) return; // posted as the page does, with the server's checks
      event.preventDefault();
      var made = new Date().toISOString();
      var body = { phone_time: made, checklist: [] };
      Array.prototype.forEach.call(checkout.elements, function (input) {
        if (!input.name || input.name === "csrf_token" || input.name === "checklist_length" || input.type === "submit") return;
        var point = /^point-(\d+)$/.exec(input.name);
        if (point) body.checklist[Number(point[1])] = input.checked;
        else if (input.type === "checkbox") body[input.name] = input.checked;
        else body[input.name] = input.value;
      });
      var result = await queue({ kind: "check-out", visit: checkout.dataset.visit, url: checkout.dataset.api, body: body, label: checkout.dataset.label, made_at: made });
      sessionStorage.setItem("carehub-phone-told", result.sent && !result.stopped ? t.checked_out : t.saved_waiting);
      location.href = checkout.dataset.next;
    });
  }

  // -- an incident report ---------------------------------------------------------------------
  var incident = document.querySelector("form[data-offline=incident]");
  if (incident) {
    incident.addEventListener("submit", async function (event) {
      if (navigator.onLine) return;
      event.preventDefault();
      if (!required(incident, ["type", "severity", "place", "description"])) return;
      var made = new Date().toISOString();
      var body = {};
      ["type", "severity", "occurred_at", "place", "description", "people_involved", "immediate_response", "visit_id", "client_id"]
        .forEach(function (name) {
          var input = incident.querySelector("[name=" + name + "]");
          if (input && input.value) body[name] = input.value;
        });
      var staff = incident.querySelector("[name=staff_file_ids]");
      if (staff) body.staff_ids = Array.prototype.filter.call(staff.options, function (o) { return o.selected; }).map(function (o) { return o.value; });
      var result = await queue({ kind: "incident", visit: body.visit_id || null, url: incident.dataset.api, body: body, label: incident.dataset.label, made_at: made });
      sessionStorage.setItem("carehub-phone-told", result.sent && !result.stopped ? t.incident_sent : t.saved_waiting);
      location.href = incident.dataset.next;
    });
  }

  // -- the 7-day copy -----------------------------------------------------------------------
  async function refreshCopy(reg) {
    var list = document.querySelector("[data-phone-refresh]");
    if (!list || !navigator.onLine || !reg.active) return;
    var urls = [config.schedule];
    document.querySelectorAll("[data-offline-urls]").forEach(function (card) {
      card.dataset.offlineUrls.split(" ").forEach(function (u) { if (u) urls.push(u); });
    });
    var db = await dbp;
    var last = await Q.meta(db, "refreshed");
    var same = (await Q.meta(db, "refresh_list")) === urls.join(" ");
    if (same && last && Date.now() - new Date(last).getTime() < REFRESH_EVERY_MS) return;
    await Q.setMeta(db, "refresh_list", urls.join(" "));
    reg.active.postMessage({ type: "refresh", urls: urls });
  }

  if ("serviceWorker" in navigator) {
    navigator.serviceWorker.addEventListener("message", function (event) {
      var data = event.data || {};
      if (data.type === "refreshed" || data.type === "flushed") {
        render();
        document.documentElement.dataset.phoneCopy = data.type === "refreshed" ? data.at : document.documentElement.dataset.phoneCopy;
      }
    });
    navigator.serviceWorker.register(config.sw, { scope: config.scope }).then(function () {
      return navigator.serviceWorker.ready;
    }).then(refreshCopy).catch(function () {});
  }

  // -- sign-out: nothing of the agency stays on the phone ----------------------------------------
  var signOut = document.querySelector('form[action$="/logout"]');
  if (signOut) {
    signOut.addEventListener("submit", async function (event) {
      if (signOut.dataset.cleared) return;
      event.preventDefault();
      var db = await dbp;
      var waiting = (await Q.all(db, "queue")).length;
      if (waiting && !window.confirm(fmt(t.signout_unsent, { n: waiting }))) return;
      var tokenId = await Q.meta(db, "token_id");
      if (tokenId && navigator.onLine) {
        try {
          await fetch(config.forget, {
            method: "POST", credentials: "same-origin",
            headers: { "X-CSRFToken": csrf(), "Content-Type": "application/json" },
            body: JSON.stringify({ token_id: tokenId }),
          });
        } catch (error) { /* the server revokes the session's phone tokens at sign-out too */ }
      }
      db.close();
      await Q.wipe(config.scope);
      signOut.dataset.cleared = "1";
      signOut.submit();
    });
  }

  window.addEventListener("online", function () { render(); send(true); });
  window.addEventListener("offline", render);
  render().then(async function () {
    if (!navigator.onLine) return;
    // the token is taken while the page's session lasts: the queue may be sent hours later
    var db = await dbp;
    if (!(await Q.meta(db, "token"))) await renew();
    send();
  });
  document.documentElement.dataset.phoneReady = "1";
})();
