// Upload form: drag-and-drop onto the drop zone, previews, and one organ menu per chosen photo.
(function () {
  "use strict";
  var form = document.getElementById("identify-form");
  if (!form) return;
  var zone = document.getElementById("dropzone");
  var inputs = Array.prototype.slice.call(form.querySelectorAll("input[type=file][name=images]"));
  var list = document.getElementById("chosen");
  var organAll = document.getElementById("organ-all");
  var template = document.getElementById("organ-template");
  var maxFiles = parseInt(zone.dataset.maxFiles, 10) || 5;
  zone.classList.add("enhanced");

  function chosenFiles() {
    return inputs.reduce(function (all, input) { return all.concat(Array.prototype.slice.call(input.files)); }, []);
  }

  function render() {
    var files = chosenFiles();
    list.textContent = "";
    organAll.hidden = files.length > 0;
    organAll.querySelector("select").disabled = files.length > 0;
    files.forEach(function (file, index) {
      var item = document.createElement("li");
      if (file.type.indexOf("image/") === 0) {
        var img = document.createElement("img");
        img.alt = "";
        img.src = URL.createObjectURL(file);
        item.appendChild(img);
      }
      var name = document.createElement("span");
      name.className = "name";
      name.textContent = (index + 1) + ". " + file.name;
      item.appendChild(name);
      item.appendChild(template.content.cloneNode(true));
      if (index >= maxFiles) item.classList.add("error");
      list.appendChild(item);
    });
  }

  inputs.forEach(function (input) { input.addEventListener("change", render); });
  ["dragenter", "dragover"].forEach(function (type) {
    zone.addEventListener(type, function (event) { event.preventDefault(); zone.classList.add("dragover"); });
  });
  ["dragleave", "drop"].forEach(function (type) {
    zone.addEventListener(type, function () { zone.classList.remove("dragover"); });
  });
  zone.addEventListener("drop", function (event) {
    event.preventDefault();
    if (!event.dataTransfer || !event.dataTransfer.files.length) return;
    inputs[0].files = event.dataTransfer.files;
    render();
  });
  render();  // files the browser kept (back button) or chose before this script ran
})();
