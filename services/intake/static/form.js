// Progressive enhancement only: every page works without this file.
(function () {
  // A slow network invites a second tap; the form token already makes a resend harmless.
  document.querySelectorAll("form").forEach(function (form) {
    form.addEventListener("submit", function () {
      var button = form.querySelector("button[type=submit]");
      if (button) { button.disabled = true; button.textContent = "正在提交，请稍候…"; }
    });
  });
  // Coming back with the browser's back button must not find the button still disabled.
  window.addEventListener("pageshow", function () {
    document.querySelectorAll("button[type=submit][disabled]").forEach(function (b) {
      b.disabled = false; b.textContent = b.dataset.label || "提交";
    });
  });
  document.querySelectorAll("button[type=submit]").forEach(function (b) { b.dataset.label = b.textContent; });
  if (navigator.clipboard) {
    document.querySelectorAll("button.copy").forEach(function (button) {
      button.hidden = false;
      button.addEventListener("click", function () {
        var text = document.getElementById(button.dataset.copy).textContent.trim();
        navigator.clipboard.writeText(text).then(function () { button.textContent = "已复制"; });
      });
    });
  }
})();
