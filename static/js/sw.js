// CareHub's service worker for the carer's phone, served from the agency's
// address (/a/<slug>/sw.js), so its scope is that agency's pages and no more.
// - The carer's next 7 days (the schedule, and each open visit's sheet,
//   check-out and incident pages, listed by the schedule page) are kept in one
//   cache per agency; the list replaces the copy each time, so nothing older
//   stays. Those pages are fetched from the network first and from the copy
//   when there is no signal.
// - The app's scripts and styles: from the copy, refreshed in the background.
// - What was recorded offline is sent by background sync where the browser
//   has it (phone-queue.js), otherwise by the page at its next open.
"use strict";

var STATIC = "__STATIC__";
importScripts(STATIC + "vendor/idb.js", STATIC + "js/phone-queue.js");

var SCOPE = new URL(self.registration.scope).pathname; // "/a/<slug>/"
var PAGES = "carehub-pages:" + SCOPE;
var ASSETS = "carehub-assets";
var SCHEDULE = SCOPE + "my/schedule";
var PRECACHE = ["css/app.css", "js/phone.js", "js/phone-queue.js", "js/checkin.js", "vendor/idb.js"];
var NETWORK_WAIT_MS = 6000;

self.addEventListener("install", function (event) {
  event.waitUntil(
    caches.open(ASSETS)
      .then(function (cache) { return cache.addAll(PRECACHE.map(function (p) { return STATIC + p; })); })
      .then(function () { return self.skipWaiting(); })
  );
});

self.addEventListener("activate", function (event) {
  event.waitUntil(self.clients.claim());
});

function pageKey(url) {
  var u = new URL(url);
  return u.pathname + u.search;
}

function withTimeout(promise, ms) {
  return new Promise(function (resolve, reject) {
    var timer = setTimeout(function () { reject(new Error("timeout")); }, ms);
    promise.then(function (r) { clearTimeout(timer); resolve(r); }, function (e) { clearTimeout(timer); reject(e); });
  });
}

async function fromNetworkFirst(request) {
  var cache = await caches.open(PAGES);
  var key = pageKey(request.url);
  var copy = await cache.match(key);
  try {
    // a page of the copy is not waited for long on a weak signal; any other
    // page (a long report) as long as it takes
    var network = fetch(request);
    var response = copy ? await withTimeout(network, NETWORK_WAIT_MS) : await network;
    if (key === SCHEDULE && (response.status === 403 || response.status === 404)) {
      // no longer a member here: nothing of the agency's stays on the phone
      await self.CarehubQueue.wipe(SCOPE);
    } else if (response.ok && response.type === "basic" && !response.redirected) {
      // only pages of the 7-day list are kept (the schedule lists them)
      if (key === SCHEDULE || copy) await cache.put(key, response.clone());
    }
    return response;
  } catch (error) {
    var fallback = copy || (await cache.match(SCHEDULE));
    if (fallback) return fallback;
    return new Response("", { status: 503, statusText: "Offline" });
  }
}

async function fromCopyFirst(event) {
  var cache = await caches.open(ASSETS);
  var copy = await cache.match(event.request);
  var fresh = fetch(event.request).then(function (response) {
    if (response.ok && response.type === "basic") return cache.put(event.request, response.clone()).then(function () { return response; });
    return response;
  });
  if (copy) {
    event.waitUntil(fresh.catch(function () {}));
    return copy;
  }
  return fresh;
}

// A check-in, check-out or incident form posted while the phone said it was
// online but the network failed on the way: kept in the queue (sent later,
// once) and the page it belongs to shown from the copy.
var QUEUED_FORMS = /\/(visits\/[0-9a-f-]{36}\/check-(in|out)|incidents\/new)$/;

async function postOrQueue(request) {
  var copy = request.clone();
  try {
    return await fetch(request);
  } catch (error) {
    var pairs = Array.from((await copy.formData()).entries());
    var made = self.CarehubQueue.fromForm(new URL(request.url).pathname, SCOPE, pairs);
    if (!made) throw error;
    var db = await self.CarehubQueue.open(SCOPE);
    await self.CarehubQueue.enqueue(db, made.entry);
    db.close();
    if (self.registration.sync) self.registration.sync.register("carehub-queue").catch(function () {});
    return Response.redirect(made.next, 303);
  }
}

self.addEventListener("fetch", function (event) {
  var request = event.request;
  var url = new URL(request.url);
  if (request.method === "POST" && request.mode === "navigate" && url.origin === self.location.origin &&
      url.pathname.indexOf(SCOPE) === 0 && QUEUED_FORMS.test(url.pathname)) {
    event.respondWith(postOrQueue(request));
    return;
  }
  if (request.method !== "GET") return;
  if (url.origin !== self.location.origin) return;
  if (url.pathname.indexOf(STATIC) === 0) {
    event.respondWith(fromCopyFirst(event));
  } else if (request.mode === "navigate" && url.pathname.indexOf(SCOPE) === 0) {
    event.respondWith(fromNetworkFirst(request));
  }
});

// The schedule page's list of the next 7 days' pages: fetched (four at a time)
// and kept; whatever the list no longer names is removed.
async function refresh(urls) {
  var cache = await caches.open(PAGES);
  var keep = new Set(urls);
  var queue = urls.slice();
  var saved = 0;
  async function worker() {
    while (queue.length) {
      var url = queue.shift();
      try {
        var response = await fetch(url, { credentials: "same-origin", redirect: "manual", cache: "no-store" });
        if (response.ok && response.type === "basic") {
          await cache.put(url, response);
          saved += 1;
        }
      } catch (error) { /* offline meanwhile: the older copy stays until the next refresh */ }
    }
  }
  await Promise.all([worker(), worker(), worker(), worker()]);
  var keys = await cache.keys();
  await Promise.all(keys.filter(function (r) { return !keep.has(pageKey(r.url)); }).map(function (r) { return cache.delete(r); }));
  var db = await self.CarehubQueue.open(SCOPE);
  var at = new Date().toISOString();
  if (saved) await self.CarehubQueue.setMeta(db, "refreshed", at);
  db.close();
  return { saved: saved, at: at };
}

self.addEventListener("message", function (event) {
  var data = event.data || {};
  var reply = function (message) { if (event.source) event.source.postMessage(message); };
  if (data.type === "refresh" && Array.isArray(data.urls)) {
    event.waitUntil(refresh(data.urls).then(function (r) { reply({ type: "refreshed", saved: r.saved, at: r.at }); }));
  }
});

self.addEventListener("sync", function (event) {
  if (event.tag !== "carehub-queue") return;
  event.waitUntil(
    self.CarehubQueue.open(SCOPE).then(function (db) {
      return self.CarehubQueue.flush(db, null).then(function (result) {
        db.close();
        return self.clients.matchAll().then(function (clients) {
          clients.forEach(function (c) { c.postMessage({ type: "flushed", sent: result.sent }); });
          if (result.stopped === "offline" || result.stopped === "server") throw new Error("retry later");
        });
      });
    })
  );
});
