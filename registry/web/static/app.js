// Keyboard shortcuts for the common decisions: a button or link with data-shortcut="m" is pressed by "m",
// unless the user is typing in a field. No other script: the pages work without it.
document.addEventListener("keydown", function (event) {
  if (event.ctrlKey || event.metaKey || event.altKey) return;
  var target = event.target;
  if (target && (target.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName))) return;
  var key = (event.key || "").toLowerCase();
  if (!/^[a-z]$/.test(key)) return;
  var control = document.querySelector('[data-shortcut="' + key + '"]:not([disabled])');
  if (control) { event.preventDefault(); control.click(); }
});
