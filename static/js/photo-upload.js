// The host's photo upload on a slow connection: a photo larger than the largest size we store is shrunk in the
// browser before it is sent (the server still checks and re-encodes everything it receives), the button is
// disabled while sending (hx-disabled-elt) and a progress bar follows the upload.
(function () {
  "use strict";

  var QUALITY = 0.88;

  function shrink(file, edge) {
    return new Promise(function (resolve) {
      if (!edge || !window.createImageBitmap || !/^image\/(jpeg|png|webp)$/.test(file.type)) {
        resolve(file);
        return;
      }
      createImageBitmap(file, { imageOrientation: "from-image" })
        .then(function (bitmap) {
          var longest = Math.max(bitmap.width, bitmap.height);
          if (longest <= edge) {
            resolve(file);
            return;
          }
          var scale = edge / longest;
          var canvas = document.createElement("canvas");
          canvas.width = Math.round(bitmap.width * scale);
          canvas.height = Math.round(bitmap.height * scale);
          canvas.getContext("2d").drawImage(bitmap, 0, 0, canvas.width, canvas.height);
          canvas.toBlob(
            function (blob) {
              if (!blob || blob.size >= file.size) {
                resolve(file);
                return;
              }
              var name = file.name.replace(/\.[^.]*$/, "") + ".jpg";
              resolve(new File([blob], name, { type: "image/jpeg", lastModified: Date.now() }));
            },
            "image/jpeg",
            QUALITY
          );
        })
        .catch(function () {
          resolve(file);
        });
    });
  }

  function uploadForm(element) {
    return element && element.closest && element.closest("form[data-photo-upload]");
  }

  function progressOf(form) {
    return {
      box: form.querySelector("[data-upload-progress]"),
      bar: form.querySelector("[data-upload-progress] progress"),
      text: form.querySelector("[data-upload-progress-text]"),
    };
  }

  // Choosing a file: shrink it now, so that the upload sends the small one.
  document.addEventListener("change", function (event) {
    var input = event.target;
    var form = uploadForm(input);
    if (!form || input.type !== "file" || !input.files || !input.files.length || !window.DataTransfer) return;
    var original = input.files[0];
    var edge = parseInt(input.getAttribute("data-resize-edge"), 10);
    var button = form.querySelector("button[type=submit]");
    var progress = progressOf(form);
    if (button) button.disabled = true;
    form.setAttribute("data-resizing", "");
    if (progress.box) {
      progress.box.hidden = false;
      progress.text.textContent = "Preparing the photo…";
      progress.bar.removeAttribute("value");
    }
    shrink(original, edge).then(function (file) {
      if (file !== original && input.files[0] === original) {
        var transfer = new DataTransfer();
        transfer.items.add(file);
        input.files = transfer.files;
      }
      input.setAttribute("data-upload-bytes", String(input.files[0].size));
      form.removeAttribute("data-resizing");
      if (button) {
        button.disabled = false;
        // The next step is this button: bring it on screen (a phone's keyboard or file picker may have moved it).
        button.scrollIntoView({ block: "nearest", behavior: "instant" });
      }
      if (progress.box) progress.box.hidden = true;
    });
  });

  document.addEventListener("htmx:beforeRequest", function (event) {
    var form = uploadForm(event.detail.elt);
    if (!form) return;
    if (form.hasAttribute("data-resizing")) {
      event.preventDefault();
      return;
    }
    var progress = progressOf(form);
    if (progress.box) {
      progress.box.hidden = false;
      progress.bar.value = 0;
      progress.text.textContent = "Sending the photo… 0%";
      progress.box.scrollIntoView({ block: "nearest", behavior: "instant" });
    }
  });

  document.addEventListener("htmx:xhr:progress", function (event) {
    var form = uploadForm(event.detail.elt);
    if (!form || !event.detail.lengthComputable) return;
    var percent = Math.round((event.detail.loaded / event.detail.total) * 100);
    var progress = progressOf(form);
    if (progress.box) {
      // The response's download reports progress too: the bar only moves forward.
      percent = Math.max(percent, progress.bar.value || 0);
      progress.bar.value = percent;
      progress.text.textContent = "Sending the photo… " + percent + "%";
    }
  });
})();
