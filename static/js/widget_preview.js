// "Show again" on the widget settings page: empty the preview and let the widget script draw it anew.
document.addEventListener("click", function (event) {
  var button = event.target.closest("[data-preview-again]");
  if (!button || !window.cxmSurveyPreview) return;
  var holder = document.getElementById(button.getAttribute("data-preview-again"));
  if (holder) holder.textContent = "";
  window.cxmSurveyPreview();
});
