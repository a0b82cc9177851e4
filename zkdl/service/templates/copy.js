document.querySelectorAll("button[data-copy]").forEach(function (button) {
  button.hidden = false;
  button.addEventListener("click", function () {
    navigator.clipboard.writeText(button.dataset.copy).then(
      function () { button.textContent = "Copied"; },
      function () { button.textContent = "Select it to copy"; }
    );
  });
});
