// Moves focus to the error summary when a form comes back refused, so that a screen reader announces it
// and keyboard users start there (the GOV.UK error-summary pattern). Nothing else: pages work without it.
document.addEventListener("DOMContentLoaded", function () {
  var summary = document.getElementById("error-summary");
  if (summary) { summary.focus(); }
});
