// Upload form: photos accumulate (choose, drop or shoot one after another), each with a preview, its organ and a
// remove button; they are checked here, then sent without leaving the page, so a refusal keeps every photo.
// Without a connection they wait in this browser (plantsite/js/upload-queue.js), listed, and go when it returns.
(function () {
  "use strict";
  var form = document.getElementById("identify-form");
  if (!form) return;
  var data = form.dataset;
  var zone = document.getElementById("dropzone");
  var inputs = [document.getElementById("id_images"), document.getElementById("camera-input")];
  var pickButtons = Array.prototype.slice.call(form.querySelectorAll("button[data-opens]"));
  var list = document.getElementById("chosen");
  var status = document.getElementById("chosen-status");
  var errors = document.getElementById("form-errors");
  var rows = document.getElementById("photo-rows");
  var queue = window.indexedDB ? self.plantsiteQueue : null;
  var template = document.getElementById("organ-template");
  var button = document.getElementById("identify-button");
  var maxFiles = parseInt(data.maxFiles, 10) || 5;
  var maxBytes = parseInt(data.maxBytes, 10) || 20 * 1024 * 1024;
  var accepted = (data.accept || "").split(",");
  var photos = [];  // {file, organ, url, problem}
  var lastOrgan = "auto";

  function text(message, values) {
    return message.replace(/\{(\w+)\}/g, function (_, key) { return values[key]; });
  }

  function problemOf(file) {
    if (accepted.indexOf(file.type) < 0) return data.msgType;
    if (file.size > maxBytes) return data.msgSize;
    if (acceptedCount() >= maxFiles) return data.msgTooMany;
    return "";
  }

  function acceptedCount() {
    return photos.filter(function (photo) { return !photo.problem; }).length;
  }

  function add(files) {
    Array.prototype.forEach.call(files, function (file) {
      photos.push({ file: file, organ: lastOrgan, url: URL.createObjectURL(file), problem: problemOf(file) });
    });
    render();
  }

  function remove(index) {
    URL.revokeObjectURL(photos[index].url);
    photos.splice(index, 1);
    // a photo refused only for the count may now fit
    photos.forEach(function (photo) { if (photo.problem === data.msgTooMany) photo.problem = ""; });
    var kept = [];
    photos.forEach(function (photo) {
      if (!photo.problem && kept.length >= maxFiles) photo.problem = data.msgTooMany;
      if (!photo.problem) kept.push(photo);
    });
    render();
    var buttons = list.querySelectorAll("button.remove");
    (buttons[Math.min(index, buttons.length - 1)] || pickButtons[0]).focus();
  }

  function item(photo, index) {
    var li = document.createElement("li");
    li.className = photo.problem ? "refused" : "";
    li.dataset.testid = "chosen-photo";
    var label = text(data.msgPhoto, { n: index + 1 });
    if (photo.file.type.indexOf("image/") === 0) {
      var img = document.createElement("img");
      img.alt = label;
      img.src = photo.url;
      li.appendChild(img);
    }
    var name = document.createElement("span");
    name.className = "name";
    name.textContent = label + ": " + photo.file.name;
    li.appendChild(name);
    if (photo.problem) {
      var message = document.createElement("p");
      message.className = "error";
      message.textContent = photo.problem;
      li.appendChild(message);
    } else {
      var select = template.content.firstElementChild.cloneNode(true);
      select.value = photo.organ;
      select.setAttribute("aria-label", text(data.msgOrganLabel, { n: index + 1 }));
      select.setAttribute("aria-describedby", "organ-help");
      select.addEventListener("change", function () { photo.organ = lastOrgan = select.value; });
      li.appendChild(select);
    }
    var removeButton = document.createElement("button");
    removeButton.type = "button";
    removeButton.className = "secondary small remove";
    removeButton.textContent = data.msgRemove;
    removeButton.setAttribute("aria-label", text(data.msgRemoveLabel, { n: index + 1 }) + " (" + photo.file.name + ")");
    removeButton.addEventListener("click", function () { remove(index); });
    li.appendChild(removeButton);
    return li;
  }

  function render() {
    list.textContent = "";
    photos.forEach(function (photo, index) { list.appendChild(item(photo, index)); });
    status.textContent = photos.length ? text(data.msgCount, { n: acceptedCount(), max: maxFiles }) : "";
  }

  function showErrors(messages) {
    errors.textContent = "";
    messages.forEach(function (message) {
      var p = document.createElement("p");
      p.textContent = message;
      errors.appendChild(p);
    });
    errors.hidden = messages.length === 0;
    if (messages.length) errors.focus();
  }

  function send(event) {
    event.preventDefault();
    var chosen = photos.filter(function (photo) { return !photo.problem; });
    if (!chosen.length) { showErrors([data.msgNone]); return; }
    showErrors([]);
    // one key for this upload: if its answer is lost, the batch kept and sent again is not identified twice
    var key = self.plantsiteQueue ? self.plantsiteQueue.newKey() : "";
    if (queue && !navigator.onLine) { keep(chosen, key); return; }
    var body = new FormData();
    body.append("csrfmiddlewaretoken", form.querySelector("[name=csrfmiddlewaretoken]").value);
    if (key) body.append("client_key", key);
    chosen.forEach(function (photo) {
      body.append("images", photo.file, photo.file.name);
      body.append("organs", photo.organ);
    });
    var label = button.textContent;
    button.disabled = true;
    button.textContent = data.msgSending;
    fetch(form.action || window.location.href, {
      method: "POST", body: body, credentials: "same-origin", headers: { Accept: "application/json" }
    })
      .then(function (response) {
        return response.json().then(function (answer) { return { ok: response.ok, answer: answer }; },
          function () { return { ok: false, answer: {} }; });
      }, function () { return { offline: true }; })
      .then(function (result) {
        if (result.ok && result.answer.url) { window.location.assign(result.answer.url); return; }
        button.disabled = false;
        button.textContent = label;
        if (result.offline && queue) keep(chosen, key);
        else showErrors((result.answer && result.answer.errors) || [data.msgNetwork]);
      });
  }

  // No connection: the photos wait in this browser and are listed until sent (offline.js, the service worker).
  function keep(chosen, key) {
    var batch = {
      key: key,
      url: form.action || window.location.href,
      token: form.querySelector("[name=csrfmiddlewaretoken]").value,
      user: form.dataset.user,
      photos: chosen.map(function (photo) { return { file: photo.file, name: photo.file.name, organ: photo.organ }; })
    };
    queue.add(batch).then(function () {
      photos.forEach(function (photo) { URL.revokeObjectURL(photo.url); });
      photos = [];
      render();
      showWaiting().then(function () { waitingTitle.focus(); });
      if ("serviceWorker" in navigator && "SyncManager" in window) {
        navigator.serviceWorker.ready.then(function (registration) {
          return registration.sync.register("plantsite-upload");
        }).catch(function () { /* the page sends them when the connection returns */ });
      }
    }, function () { showErrors([data.msgNetwork]); });
  }

  var waiting = document.getElementById("waiting");
  var waitingNow = document.getElementById("waiting-now");
  var waitingTitle = document.getElementById("waiting-title");
  var waitingList = document.getElementById("waiting-list");
  var refusedList = document.getElementById("refused-list");
  var sentList = document.getElementById("sent-list");
  var previews = [];  // the object URLs of the waiting list's images, revoked when it is rebuilt
  var refusedPreviews = [];
  var refusedShown = "";
  var refocus = false;  // the ids listed: the live list is rebuilt (and read out) only when they change

  function thumbnails(batch, parent, urls) {
    batch.photos.forEach(function (photo) {
      var img = document.createElement("img");
      var url = URL.createObjectURL(photo.file);
      urls.push(url);
      img.src = url;
      img.alt = photo.name;
      parent.appendChild(img);
    });
  }

  function actionButton(label, name, testid, names, onClick) {
    var b = document.createElement("button");
    b.type = "button";
    b.className = "secondary small";
    b.dataset.testid = testid;
    b.textContent = label;
    b.setAttribute("aria-label", text(name, { names: names }));
    b.addEventListener("click", onClick);
    return b;
  }

  // A batch the server refused stays listed with its reasons until dismissed, or put back in the form to be mended.
  function refusedItem(batch) {
    var li = document.createElement("li");
    li.dataset.testid = "refused-batch";
    var message = document.createElement("p");
    message.className = "error";
    message.textContent = [data.msgRefused].concat(batch.errors || []).join(" ");
    li.appendChild(message);
    var row = document.createElement("div");
    row.className = "photos";
    thumbnails(batch, row, refusedPreviews);
    li.appendChild(row);
    var names = batch.photos.map(function (photo) { return photo.name; }).join(", ");
    var actions = document.createElement("div");
    actions.className = "actions";
    actions.appendChild(actionButton(data.msgRestore, data.msgRestoreLabel, "refused-restore", names, function () {
      add(batch.photos.map(function (photo) {
        return new File([photo.file], photo.name, { type: photo.file.type });
      }));
      batch.photos.forEach(function (photo, index) {
        photos[photos.length - batch.photos.length + index].organ = photo.organ;
      });
      render();
      queue.dismiss(batch.id);
      pickButtons[0].focus();
    }));
    actions.appendChild(actionButton(data.msgDismiss, data.msgDismissLabel, "refused-dismiss", names, function () {
      refocus = true;  // once the list is rebuilt without it: the next refusal's button, or the form
      queue.dismiss(batch.id);
    }));
    li.appendChild(actions);
    return li;
  }

  function showWaiting() {
    if (!queue) return Promise.resolve();
    return queue.list().then(function (batches) {
      // only the batches of whoever is signed in: the phone may be shared
      batches = batches.filter(function (batch) { return batch.user === form.dataset.user; });
      var refused = batches.filter(function (batch) { return batch.state === "refused"; });
      var waitingBatches = batches.filter(function (batch) { return batch.state !== "refused"; });
      previews.forEach(function (url) { URL.revokeObjectURL(url); });
      previews = [];
      waitingList.textContent = "";
      var count = 0;
      waitingBatches.forEach(function (batch) {
        var li = document.createElement("li");
        li.dataset.testid = "waiting-batch";
        thumbnails(batch, li, previews);
        waitingList.appendChild(li);
        count += batch.photos.length;
      });
      var ids = refused.map(function (batch) { return batch.id; }).join(",");
      if (ids !== refusedShown) {
        refusedShown = ids;
        refusedPreviews.forEach(function (url) { URL.revokeObjectURL(url); });
        refusedPreviews = [];
        refusedList.textContent = "";
        refused.forEach(function (batch) { refusedList.appendChild(refusedItem(batch)); });
        if (refocus) (refusedList.querySelector("[data-testid=refused-dismiss]") || pickButtons[0]).focus();
        refocus = false;
      }
      waitingTitle.textContent = text(count === 1 ? data.msgWaitingOne : data.msgWaitingOther, { n: count });
      waitingNow.hidden = count === 0;
      waiting.hidden = count === 0 && !refused.length && !sentList.children.length;
    });
  }

  function sent(event) {
    if (event.type === "sent") {
      var li = document.createElement("li");
      li.dataset.testid = "sent-batch";
      var link = document.createElement("a");
      link.href = event.url;
      link.textContent = data.msgSent;
      li.appendChild(link);
      sentList.appendChild(li);
    }
    showWaiting();  // a refused batch is listed from the store, with its reasons, until dismissed
  }

  pickButtons.forEach(function (pick) {
    pick.addEventListener("click", function () { document.getElementById(pick.dataset.opens).click(); });
  });
  Array.prototype.forEach.call(rows.querySelectorAll("input, select"), function (field) { field.disabled = true; });
  inputs.forEach(function (input) {
    input.removeAttribute("name");  // the script sends the list it keeps, not the inputs
    input.addEventListener("change", function () {
      add(input.files);
      input.value = "";  // the next shot or choice adds to the list instead of replacing it
    });
  });
  ["dragenter", "dragover"].forEach(function (type) {
    zone.addEventListener(type, function (event) { event.preventDefault(); zone.classList.add("dragover"); });
  });
  ["dragleave", "drop"].forEach(function (type) {
    zone.addEventListener(type, function () { zone.classList.remove("dragover"); });
  });
  zone.addEventListener("drop", function (event) {
    event.preventDefault();
    if (event.dataTransfer && event.dataTransfer.files.length) add(event.dataTransfer.files);
  });
  form.addEventListener("submit", send);
  if (queue) { queue.onChange(sent); showWaiting(); }
  if (inputs[0].files.length) add(inputs[0].files);  // files the browser kept (back button)
  else render();
  inputs[0].value = "";
})();
