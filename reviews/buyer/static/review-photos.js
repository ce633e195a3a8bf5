/* The review form's photos, where the browser can: previews of the files chosen, removing one
   before sending, a caption for each, and downscaling on the phone (at most 1600 pixels, which is
   what the server keeps: a smaller upload, and the location in a photo's metadata never leaves the
   phone). The form works the same without this script: files are sent as chosen. */
(function () {
  "use strict";
  var form = document.getElementById("review-form");
  if (!form || typeof DataTransfer === "undefined" || !window.URL) return;
  var LONG_SIDE = 1600;

  function shrink(file) {
    // JPEG, PNG, WebP (and HEIC where the browser reads it) drawn again, smaller, without metadata.
    if (!window.createImageBitmap || !/^image\/(jpeg|png|webp|heic|heif)$/.test(file.type)) return Promise.resolve(file);
    return createImageBitmap(file, { imageOrientation: "from-image" }).then(function (bitmap) {
      var scale = Math.min(1, LONG_SIDE / Math.max(bitmap.width, bitmap.height));
      if (scale === 1 && file.size < 1000000) { bitmap.close(); return file; }
      var canvas = document.createElement("canvas");
      canvas.width = Math.max(1, Math.round(bitmap.width * scale));
      canvas.height = Math.max(1, Math.round(bitmap.height * scale));
      var g = canvas.getContext("2d");
      g.fillStyle = "#fff";
      g.fillRect(0, 0, canvas.width, canvas.height);
      g.drawImage(bitmap, 0, 0, canvas.width, canvas.height);
      bitmap.close();
      return new Promise(function (resolve) {
        canvas.toBlob(function (blob) {
          resolve(blob ? new File([blob], file.name.replace(/\.[^.]*$/, "") + ".jpg", { type: "image/jpeg" }) : file);
        }, "image/jpeg", 0.9);
      });
    }).catch(function () { return file; });  // the server reads what the browser cannot (HEIC in most)
  }

  function photos(box) {
    var input = box.querySelector("input[type=file]");
    if (!input || typeof DataTransfer === "undefined") return;
    var key = box.getAttribute("data-photos");
    var max = +box.getAttribute("data-max");
    var chosen = [];
    var list = document.createElement("ul");
    list.className = "shots";
    var note = document.createElement("p");
    note.className = "error";
    note.setAttribute("role", "status");
    input.insertAdjacentElement("afterend", list);
    list.insertAdjacentElement("afterend", note);
    var kept = function () {
      return Array.prototype.filter.call(box.querySelectorAll("input[name^='remove_']"), function (c) { return !c.checked; }).length;
    };
    var sync = function () {
      var files = new DataTransfer();
      chosen.forEach(function (c) { files.items.add(c.file); });
      input.files = files.files;
    };
    var render = function () {
      list.textContent = "";
      chosen.forEach(function (c, n) {
        var item = document.createElement("li");
        var img = document.createElement("img");
        img.src = c.url;
        img.alt = c.file.name;
        var id = "newcaption-" + key + "-" + n;
        var label = document.createElement("label");
        label.htmlFor = id;
        label.textContent = box.getAttribute("data-caption");
        var caption = document.createElement("input");
        caption.type = "text";
        caption.id = id;
        caption.name = "newcaption_" + key + "_" + n;
        caption.maxLength = 200;
        caption.value = c.caption;
        caption.addEventListener("input", function () { c.caption = caption.value; });
        var remove = document.createElement("button");
        remove.type = "button";
        remove.className = "secondary";
        remove.textContent = box.getAttribute("data-remove");
        remove.addEventListener("click", function () {
          URL.revokeObjectURL(c.url);
          chosen.splice(chosen.indexOf(c), 1);
          note.textContent = "";
          sync();
          render();
          input.focus();
        });
        item.append(img, label, caption, remove);
        list.appendChild(item);
      });
    };
    input.addEventListener("change", function () {
      var picked = Array.prototype.slice.call(input.files);
      Promise.all(picked.map(shrink)).then(function (files) {
        files.forEach(function (file) { chosen.push({ file: file, url: URL.createObjectURL(file), caption: "" }); });
        var room = Math.max(0, max - kept());
        note.textContent = "";
        if (chosen.length > room) {
          chosen.splice(room).forEach(function (c) { URL.revokeObjectURL(c.url); });
          note.textContent = box.getAttribute("data-too-many");
        }
        sync();
        render();
      });
    });
  }

  Array.prototype.forEach.call(form.querySelectorAll("[data-photos]"), photos);
})();
