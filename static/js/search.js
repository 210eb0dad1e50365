// Arrow keys move between the search box and result links, so results can be opened without a mouse.
document.addEventListener("keydown", function (event) {
  if (event.key !== "ArrowDown" && event.key !== "ArrowUp") return;
  var box = document.getElementById("search-q");
  if (!box) return;
  var links = Array.prototype.slice.call(document.querySelectorAll("#search-results .search-hit-link"));
  var at = links.indexOf(document.activeElement);
  if (document.activeElement !== box && at < 0) return;
  event.preventDefault();
  if (event.key === "ArrowDown") {
    (links[at + 1] || links[at] || box).focus();
  } else if (at <= 0) {
    box.focus();
  } else {
    links[at - 1].focus();
  }
});
