// Applies the saved colour theme before the page paints (a classic, blocking
// script on purpose: no flash of the wrong theme). "system" follows
// prefers-color-scheme; "light" and "dark" override it.
(function () {
  try {
    var t = localStorage.getItem('os1.theme');
    if (t === 'light' || t === 'dark') document.documentElement.setAttribute('data-theme', t);
  } catch (e) { /* storage may be unavailable; the system theme applies */ }
})();
