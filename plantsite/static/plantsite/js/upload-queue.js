// Photos chosen without a connection wait in this browser's IndexedDB until they can be sent. The pages and the
// service worker (Background Sync) share this file; a send claims its batch first, so two of them never send it twice.
(function (scope) {
  "use strict";
  var DB = "plantsite-offline";
  var STORE = "uploads";
  var CLAIM_MS = 60 * 1000;  // a claim older than this belongs to a sender that died: the batch is free again
  var channel = typeof BroadcastChannel === "function" ? new BroadcastChannel("plantsite-uploads") : null;
  var listeners = [];

  function open() {
    return new Promise(function (resolve, reject) {
      var request = indexedDB.open(DB, 1);
      request.onupgradeneeded = function () {
        request.result.createObjectStore(STORE, { keyPath: "id", autoIncrement: true });
      };
      request.onsuccess = function () { resolve(request.result); };
      request.onerror = function () { reject(request.error); };
    });
  }

  // Run ``work(store)`` in one transaction; resolve with what it set on ``result.value`` once committed.
  function transact(mode, work) {
    return open().then(function (db) {
      return new Promise(function (resolve, reject) {
        var tx = db.transaction(STORE, mode);
        var result = {};
        work(tx.objectStore(STORE), result);
        tx.oncomplete = function () { db.close(); resolve(result.value); };
        tx.onerror = tx.onabort = function () { db.close(); reject(tx.error); };
      });
    });
  }

  function changed(event) {
    listeners.forEach(function (listener) { listener(event); });
    if (channel) channel.postMessage(event);
  }

  // Keep a batch: {url, token, user, photos: [{file (a Blob), name, organ}]}; resolves with its id.
  function add(batch) {
    batch.created = Date.now();
    batch.claimed = 0;
    return transact("readwrite", function (store, result) {
      store.add(batch).onsuccess = function (event) { result.value = event.target.result; };
    }).then(function (id) { changed({ type: "queued", id: id }); return id; });
  }

  function list() {
    return transact("readonly", function (store, result) {
      store.getAll().onsuccess = function (event) { result.value = event.target.result; };
    });
  }

  function remove(id) {
    return transact("readwrite", function (store) { store["delete"](id); });
  }

  // Take the batch for this sender unless another sender holds a fresh claim; resolves with it or null.
  function claim(id) {
    return transact("readwrite", function (store, result) {
      store.get(id).onsuccess = function (event) {
        var batch = event.target.result;
        if (!batch || Date.now() - batch.claimed < CLAIM_MS) return;
        batch.claimed = Date.now();
        store.put(batch);
        result.value = batch;
      };
    });
  }

  function release(id) {
    return transact("readwrite", function (store) {
      store.get(id).onsuccess = function (event) {
        var batch = event.target.result;
        if (batch) { batch.claimed = 0; store.put(batch); }
      };
    });
  }

  // Post one claimed batch; "sent" and "refused" (the server said no: sending again would not help) end it,
  // "kept" (no connection, a server error, a stale token or session) leaves it for the next try.
  function post(batch, token) {
    var body = new FormData();
    body.append("csrfmiddlewaretoken", token || batch.token);
    batch.photos.forEach(function (photo) {
      body.append("images", photo.file, photo.name);
      body.append("organs", photo.organ);
    });
    return fetch(batch.url, {
      method: "POST", body: body, credentials: "same-origin", redirect: "manual",
      headers: { Accept: "application/json", "X-CSRFToken": token || batch.token }
    }).then(function (response) {
      var json = (response.headers.get("Content-Type") || "").indexOf("application/json") === 0;
      if (!json) return { outcome: "kept" };
      return response.json().then(function (answer) {
        if (response.status === 201 && answer.url) return { outcome: "sent", url: answer.url };
        if (response.status === 400) return { outcome: "refused", errors: answer.errors || [] };
        return { outcome: "kept" };
      });
    }, function () { return { outcome: "kept" }; });
  }

  // Send every waiting batch of ``user`` (all users' when null, as the worker does: a stale token is refused);
  // ``token`` replaces the stored one when the page has a fresher one. Resolves with the outcomes.
  function sendAll(token, user) {
    return list().then(function (batches) {
      var mine = batches.filter(function (batch) { return user == null || batch.user === user; });
      return mine.reduce(function (done, waiting) {
        return done.then(function (outcomes) {
          return claim(waiting.id).then(function (batch) {
            if (!batch) return outcomes;
            return post(batch, token).then(function (outcome) {
              outcome.id = batch.id;
              outcome.count = batch.photos.length;
              var end = outcome.outcome === "kept" ? release(batch.id) : remove(batch.id);
              return end.then(function () {
                changed({ type: outcome.outcome, id: batch.id, url: outcome.url, errors: outcome.errors,
                  count: outcome.count });
                return outcomes.concat([outcome]);
              });
            });
          });
        });
      }, Promise.resolve([]));
    });
  }

  // Call ``listener(event)`` on every change seen here or, through the BroadcastChannel, in another tab or the worker.
  function onChange(listener) {
    listeners.push(listener);
    if (channel) channel.addEventListener("message", function (event) { listener(event.data); });
  }

  scope.plantsiteQueue = { add: add, list: list, sendAll: sendAll, onChange: onChange };
})(self);
