// The month picker, the links to the month before and after, and the refresh time of every
// month's page (reports/templates/site/chrome.html.j2). RURALCARE_SITE, written above this code
// by each build, lists the months (newest first), the KPIs, each month's members pages per town
// (positions in the KPI list) and the latest refresh's time.
(function () {
  var site = RURALCARE_SITE;
  var months = site.months.map(function (m) { return m[0]; });

  // The same page in another month; its overview where that month has no such page.
  function samePageIn(page, month) {
    var rest = page.slice(page.indexOf("/") + 1);
    var members = /^town\/([^\/]+)\/([^\/]+)\.html$/.exec(rest);
    if (members) {
      var kpis = ((site.members[month] || {})[members[1]] || "").split(" ");
      if (kpis.indexOf(String(site.kpis.indexOf(members[2]))) < 0) return month + "/index.html";
    }
    return month + "/" + rest;
  }

  function link(href, text, title) {
    var a = document.createElement("a");
    a.href = href;
    a.textContent = text;
    a.title = title;
    return a;
  }

  function drawNav(nav) {
    var page = nav.getAttribute("data-page"), root = nav.getAttribute("data-root");
    var here = months.indexOf(page.slice(0, page.indexOf("/")));
    nav.textContent = "";
    if (here + 1 < months.length) nav.appendChild(link(root + samePageIn(page, months[here + 1]), "‹ 上月", "上月"));
    var picker = document.createElement("select");
    picker.id = "month-picker";
    picker.setAttribute("aria-label", "月份");
    site.months.forEach(function (m, i) {
      var option = document.createElement("option");
      option.value = root + samePageIn(page, m[0]);
      option.textContent = m[1];
      if (i === here) option.setAttribute("selected", "");
      picker.appendChild(option);
    });
    picker.onchange = function () { if (this.value) location.href = this.value; };
    nav.appendChild(picker);
    if (here > 0) nav.appendChild(link(root + samePageIn(page, months[here - 1]), "下月 ›", "下月"));
  }

  var script = document.currentScript;
  var nav = script && script.previousElementSibling;
  if (nav && nav.classList.contains("months")) drawNav(nav);
  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll(".refreshed-at").forEach(function (span) { span.textContent = site.refreshedAt; });
  });
})();
