// Photos chosen without a connection wait in this browser's IndexedDB until they can be sent. The pages and the
// service worker (Background Sync) share this file. Each batch carries a key of its own (client_key): the server
// starts one identification per key, so a batch sent twice (its answer lost, two senders at once) is stored once.
// A send also claims its batch, and renews the claim while it uploads, so that two senders rarely both send it.
(function (scope) {
  "use strict";
  var DB = "plantsite-offline";
  var STORE = "uploads";
  var CLAIM_MS = 60 * 1000;  // a claim not renewed for this long belongs to a sender that died: the batch is free
  var RENEW_MS = CLAIM_MS / 4;
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

  // Change the stored batch ``id`` with ``edit(batch)`` (it returns false to leave it); resolves with the batch.
  function update(id, edit) {
    return transact("readwrite", function (store, result) {
      store.get(id).onsuccess = function (event) {
        var batch = event.target.result;
        if (!batch || edit(batch) === false) return;
        store.put(batch);
        result.value = batch;
      };
    });
  }

  function changed(event) {
    listeners.forEach(function (listener) { listener(event); });
    if (channel) channel.postMessage(event);
  }

  function newKey() {
    if (scope.crypto && typeof scope.crypto.randomUUID === "function") return scope.crypto.randomUUID();
    var bytes = scope.crypto.getRandomValues(new Uint8Array(16));
    bytes[6] = (bytes[6] & 0x0f) | 0x40;  // version 4
    bytes[8] = (bytes[8] & 0x3f) | 0x80;  // the RFC 4122 variant
    var hex = Array.prototype.map.call(bytes, function (b) { return (b + 0x100).toString(16).slice(1); }).join("");
    return [hex.slice(0, 8), hex.slice(8, 12), hex.slice(12, 16), hex.slice(16, 20), hex.slice(20)].join("-");
  }

  // Keep a batch: {url, token, user, photos: [{file (a Blob), name, organ}], key (optional: the key of a send that
  // may have reached the server)}; resolves with its id.
  function add(batch) {
    batch.created = Date.now();
    batch.claimed = 0;
    batch.key = batch.key || newKey();
    batch.state = "waiting";
    return transact("readwrite", function (store, result) {
      store.add(batch).onsuccess = function (event) { result.value = event.target.result; };
    }).then(function (id) { changed({ type: "queued", id: id }); return id; });
  }

  // Every kept batch: waiting ones, and refused ones ({state: "refused", errors}) until dismissed.
  function list() {
    return transact("readonly", function (store, result) {
      store.getAll().onsuccess = function (event) { result.value = event.target.result; };
    });
  }

  function remove(id) {
    return transact("readwrite", function (store) { store["delete"](id); });
  }

  // Forget a refused batch once its owner saw why (a waiting one is left alone: it is still to be sent).
  function dismiss(id) {
    return transact("readwrite", function (store) {
      store.get(id).onsuccess = function (event) {
        if (event.target.result && event.target.result.state === "refused") store["delete"](id);
      };
    }).then(function () { changed({ type: "dismissed", id: id }); });
  }

  // Take a waiting batch for ``sender`` unless another holds a fresh claim; resolves with it or undefined.
  function claim(id, sender) {
    return update(id, function (batch) {
      if (batch.state === "refused" || Date.now() - batch.claimed < CLAIM_MS) return false;
      batch.claimed = Date.now();
      batch.sender = sender;
      batch.key = batch.key || newKey();  // kept before batches had keys
    });
  }

  function renew(id, sender) {
    return update(id, function (batch) {
      if (batch.sender !== sender) return false;
      batch.claimed = Date.now();
    });
  }

  function release(id) {
    return update(id, function (batch) { batch.claimed = 0; });
  }

  // Keep a refused batch, with the server's reasons, until a page showed them and its owner dismissed it: its
  // photos, taken with the camera, may exist nowhere else.
  function refuse(id, errors) {
    return update(id, function (batch) {
      batch.state = "refused";
      batch.errors = errors;
      batch.claimed = 0;
    });
  }

  // Post one claimed batch; "sent" ends it, "refused" (the server said no: sending again would not help) keeps it
  // for its owner to see, "kept" (no connection, a server error, a stale token or session) waits for the next try.
  function post(batch, token) {
    var body = new FormData();
    body.append("csrfmiddlewaretoken", token || batch.token);
    body.append("client_key", batch.key);
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

  // Claim, post (renewing the claim while the upload runs) and end one batch; resolves with its outcome or null.
  function sendOne(id, token, sender) {
    return claim(id, sender).then(function (batch) {
      if (!batch) return null;
      var renewing = setInterval(function () { renew(id, sender).catch(function () { /* the claim may lapse */ }); },
        RENEW_MS);
      return post(batch, token).then(function (outcome) {
        clearInterval(renewing);
        outcome.id = id;
        outcome.count = batch.photos.length;
        var end = outcome.outcome === "sent" ? remove(id)
          : outcome.outcome === "refused" ? refuse(id, outcome.errors) : release(id);
        return end.then(function () {
          changed({ type: outcome.outcome, id: id, url: outcome.url, errors: outcome.errors, count: outcome.count });
          return outcome;
        });
      });
    });
  }

  // Send every waiting batch of ``user`` (all users' when null, as the worker does: each goes with the form token
  // of the session that kept it, which a later sign-in replaced, so another person's session cannot send it);
  // ``token`` replaces the stored one when the page has a fresher one. Resolves with the outcomes.
  function sendAll(token, user) {
    var sender = newKey();
    return list().then(function (batches) {
      var mine = batches.filter(function (batch) {
        return batch.state !== "refused" && (user == null || batch.user === user);
      });
      return mine.reduce(function (done, waiting) {
        return done.then(function (outcomes) {
          return sendOne(waiting.id, token, sender).then(function (outcome) {
            return outcome ? outcomes.concat([outcome]) : outcomes;
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

  scope.plantsiteQueue = {
    add: add, list: list, dismiss: dismiss, sendAll: sendAll, onChange: onChange, newKey: newKey
  };
})(self);
