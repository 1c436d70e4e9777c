/* Newsreader: a little help on top of pages that work without it.
   - A picture that fails to load gives way to its frame's placeholder.
   - Times in the reader's own zone and locale: the server writes UTC in <time datetime>;
     the day headings of lists follow the reader's days (cards move between them).
   - Muted outlets, kept in localStorage: what the server marked with data-outlet /
     data-lead-outlet is hidden, data-outlet-count recounted (stories/muting.py).
   - Keyboard shortcuts: j / k move between stories (or coverage rows), o or Enter opens one,
     ? shows the help. A button at the foot of every page turns them off (WCAG 2.1.4);
     the choice is kept in localStorage. */
(function () {
  "use strict";

  var STORAGE_KEY = "newsreader.shortcuts";
  var ITEMS = ".story, .coverage-row";
  var LINKS = ".story-link, .coverage-title a";

  /* --- broken pictures ------------------------------------------------------ */

  function markBroken(img) {
    var frame = img.closest(".thumb, .lead-figure");
    if (frame) {
      frame.classList.add("is-broken");
    }
  }

  // Error events do not bubble: listen in the capture phase.
  document.addEventListener(
    "error",
    function (event) {
      var target = event.target;
      if (target && target.tagName === "IMG") {
        markBroken(target);
      }
    },
    true
  );

  // Pictures that failed before this script ran.
  Array.prototype.forEach.call(document.querySelectorAll(".thumb img, .lead-figure img"), function (img) {
    if (img.complete && img.naturalWidth === 0 && img.getAttribute("src")) {
      markBroken(img);
    }
  });

  /* --- keyboard shortcuts ---------------------------------------------------- */

  function shortcutsOn() {
    try {
      return window.localStorage.getItem(STORAGE_KEY) !== "off";
    } catch (error) {
      return true;
    }
  }

  function setShortcuts(on) {
    try {
      window.localStorage.setItem(STORAGE_KEY, on ? "on" : "off");
    } catch (error) {
      /* private mode: the choice lasts for this page only */
    }
    showToggle(on);
  }

  var toggle = document.querySelector("[data-kbd-toggle]");
  var helpButton = document.querySelector("[data-kbd-help]");
  var help = document.getElementById("kbd-help");
  var sessionOff = false;

  function showToggle(on) {
    if (!toggle) {
      return;
    }
    toggle.hidden = false;
    toggle.setAttribute("aria-pressed", on ? "true" : "false");
    toggle.textContent = "Keyboard shortcuts: " + (on ? "on" : "off");
  }

  function enabled() {
    return !sessionOff && shortcutsOn();
  }

  if (toggle) {
    showToggle(shortcutsOn());
    toggle.addEventListener("click", function () {
      var on = !enabled();
      sessionOff = !on;
      setShortcuts(on);
    });
  }

  function openHelp() {
    if (help && typeof help.showModal === "function" && !help.open) {
      help.showModal();
    }
  }

  if (helpButton && help && typeof help.showModal === "function") {
    helpButton.hidden = false;
    helpButton.addEventListener("click", openHelp);
  }

  function items() {
    return Array.prototype.filter.call(document.querySelectorAll(ITEMS), function (item) {
      return !item.closest("[hidden]"); // muted ones
    });
  }

  function currentIndex(list) {
    var active = document.activeElement;
    var item = active && active.closest ? active.closest(ITEMS) : null;
    var selected = item || document.querySelector(".is-selected");
    return selected ? list.indexOf(selected) : -1;
  }

  function select(step) {
    var list = items();
    if (!list.length) {
      return;
    }
    var index = currentIndex(list);
    index = index < 0 ? (step > 0 ? 0 : list.length - 1) : Math.max(0, Math.min(list.length - 1, index + step));
    list.forEach(function (item) {
      item.classList.remove("is-selected");
    });
    var item = list[index];
    item.classList.add("is-selected");
    if (!item.hasAttribute("tabindex")) {
      item.setAttribute("tabindex", "-1");
    }
    item.focus();
    item.scrollIntoView({ block: "nearest" });
  }

  function openSelected() {
    var list = items();
    var item = list[currentIndex(list)];
    var link = item ? item.querySelector(LINKS) : null;
    if (link) {
      link.click();
      return true;
    }
    return false;
  }

  function isTyping(target) {
    return (
      target &&
      target.closest &&
      (target.isContentEditable || target.closest("input, textarea, select, [contenteditable], dialog"))
    );
  }

  document.addEventListener("keydown", function (event) {
    if (!enabled() || event.defaultPrevented || event.altKey || event.ctrlKey || event.metaKey) {
      return;
    }
    var target = event.target;
    if (isTyping(target)) {
      return;
    }
    switch (event.key) {
      case "j":
        select(1);
        break;
      case "k":
        select(-1);
        break;
      case "o":
        if (!openSelected()) {
          return;
        }
        break;
      case "Enter":
        // Enter on a link or a button does what it always does.
        if (!(target.matches && target.matches(ITEMS)) || !openSelected()) {
          return;
        }
        break;
      case "?":
        openHelp();
        break;
      default:
        return;
    }
    event.preventDefault();
  });
  /* --- local times ------------------------------------------------------------ */

  function each(selector, callback, root) {
    Array.prototype.forEach.call((root || document).querySelectorAll(selector), callback);
  }

  var zone = "";
  var dateTimeFormat = null;
  var dayFormat = null;
  var headingFormat = null;
  var relativeFormat = null;
  try {
    zone = Intl.DateTimeFormat().resolvedOptions().timeZone || "";
    dateTimeFormat = new Intl.DateTimeFormat(undefined, {
      day: "numeric",
      month: "long",
      year: "numeric",
      hour: "2-digit",
      minute: "2-digit",
      timeZoneName: "short"
    });
    dayFormat = new Intl.DateTimeFormat("en-US", { year: "numeric", month: "2-digit", day: "2-digit" });
    // A day key is a UTC noon: formatted in UTC it cannot slip to a neighbouring day.
    headingFormat = new Intl.DateTimeFormat(undefined, {
      weekday: "long",
      day: "numeric",
      month: "long",
      year: "numeric",
      timeZone: "UTC"
    });
    if (typeof Intl.RelativeTimeFormat === "function") {
      relativeFormat = new Intl.RelativeTimeFormat(undefined, { numeric: "auto" });
    }
  } catch (error) {
    dateTimeFormat = null; /* no Intl: the server's UTC times stay */
  }

  function timeOf(element) {
    var date = new Date(element.getAttribute("datetime"));
    return isNaN(date.getTime()) ? null : date;
  }

  // "2024-05-02": the reader's calendar day of a moment.
  function dayKey(date) {
    var parts = {};
    dayFormat.formatToParts(date).forEach(function (part) {
      parts[part.type] = part.value;
    });
    return parts.year + "-" + parts.month + "-" + parts.day;
  }

  function keyDate(key) {
    return new Date(key + "T12:00:00Z");
  }

  function shiftKey(key, days) {
    var date = keyDate(key);
    date.setUTCDate(date.getUTCDate() + days);
    return date.toISOString().slice(0, 10);
  }

  function dayLabel(key, today) {
    if (key === today) {
      return "Today";
    }
    if (key === shiftKey(today, -1)) {
      return "Yesterday";
    }
    return headingFormat.format(keyDate(key));
  }

  // Past thresholds as the server's (stories/templatetags/reader.py relative_time).
  function relativeText(date, now) {
    var seconds = Math.round((now - date) / 1000);
    var sign = seconds < 0 ? 1 : -1;
    var size = Math.abs(seconds);
    if (size < 60) {
      return relativeFormat.format(0, "second");
    }
    var steps = [
      [3600, 60, "minute"],
      [86400, 3600, "hour"],
      [86400 * 30, 86400, "day"],
      [86400 * 365, 86400 * 30, "month"]
    ];
    for (var i = 0; i < steps.length; i += 1) {
      if (size < steps[i][0]) {
        return relativeFormat.format(sign * Math.floor(size / steps[i][1]), steps[i][2]);
      }
    }
    return relativeFormat.format(sign * Math.floor(size / (86400 * 365)), "year");
  }

  function localiseTimes() {
    var now = Date.now();
    each("time[datetime]", function (element) {
      var date = timeOf(element);
      if (date) {
        element.textContent = dateTimeFormat.format(date);
      }
    });
    if (relativeFormat) {
      each(".reltime", function (element) {
        var time = element.parentNode && element.parentNode.querySelector("time[datetime]");
        var date = time ? timeOf(time) : null;
        if (date) {
          element.textContent = relativeText(date, now);
        }
      });
    }
    each("[data-time-zone-note]", function (note) {
      note.textContent = "Times are in your time zone" + (zone ? " (" + zone + ")" : "") + ".";
    });
    localiseCharts();
  }

  // The SVG timeline's axis (templates/includes/timeline_chart.html): each tick relabelled in the
  // reader's zone, its date line filled where the reader's date changes, the legend naming the zone.
  function localiseCharts() {
    var clock = new Intl.DateTimeFormat(undefined, { hour: "2-digit", minute: "2-digit" });
    var shortDate = new Intl.DateTimeFormat(undefined, { day: "numeric", month: "short" });
    each("svg.chart", function (chart) {
      var previous = null;
      each(
        "text[data-tick]",
        function (label) {
          var date = new Date(label.getAttribute("data-tick"));
          if (isNaN(date.getTime())) {
            return;
          }
          var byDay = label.hasAttribute("data-by-day");
          var key = dayKey(date);
          var dateLine = label.nextElementSibling;
          label.textContent = byDay ? shortDate.format(date) : clock.format(date);
          if (dateLine && dateLine.hasAttribute("data-tick-date")) {
            if (byDay) {
              dateLine.textContent = previous === null || previous.slice(0, 4) !== key.slice(0, 4) ? key.slice(0, 4) : "";
            } else {
              dateLine.textContent = previous !== key ? shortDate.format(date) : "";
            }
          }
          previous = key;
        },
        chart
      );
      each(
        "[data-chart-zone]",
        function (note) {
          note.textContent = "Your local times";
        },
        chart
      );
    });
  }

  // The cards under day headings, regrouped by the reader's days: a story at 23:30 UTC is the
  // next day in Tokyo. The headings keep linking to the archive of the day they name.
  function regroupDays() {
    var sections = Array.prototype.slice.call(document.querySelectorAll("section.day[data-day]"));
    if (!sections.length) {
      return;
    }
    var parent = sections[0].parentNode;
    var template = sections[0];
    var today = dayKey(new Date());
    var groups = [];
    var byKey = {};
    sections.forEach(function (section) {
      Array.prototype.slice.call(section.children).forEach(function (child) {
        if (child.classList.contains("day-heading")) {
          return;
        }
        var time = child.querySelector("time[datetime]");
        var date = time ? timeOf(time) : null;
        var key = date ? dayKey(date) : section.getAttribute("data-day");
        if (!byKey[key]) {
          byKey[key] = { key: key, items: [] };
          groups.push(byKey[key]);
        }
        byKey[key].items.push(child);
      });
    });
    var anchor = document.createComment("days");
    parent.insertBefore(anchor, sections[0]);
    sections.forEach(function (section) {
      parent.removeChild(section);
    });
    groups.forEach(function (group, index) {
      var section = template.cloneNode(false);
      var heading = template.querySelector(".day-heading").cloneNode(true);
      var id = "day-" + (index + 1);
      section.setAttribute("data-day", group.key);
      section.setAttribute("aria-labelledby", id);
      heading.id = id;
      var link = heading.querySelector("a");
      if (link) {
        link.firstChild.nodeValue = dayLabel(group.key, today);
        link.setAttribute(
          "href",
          link.getAttribute("href").replace(/\d{4}\/\d{2}\/\d{2}\/$/, group.key.replace(/-/g, "/") + "/")
        );
      }
      section.appendChild(heading);
      group.items.forEach(function (item) {
        section.appendChild(item);
      });
      parent.insertBefore(section, anchor);
    });
    parent.removeChild(anchor);
  }

  if (dateTimeFormat) {
    regroupDays();
    localiseTimes();
  }

  /* --- muted outlets ----------------------------------------------------------- */

  var MUTE_KEY = "newsreader.muted"; // {slug: name}
  var muted = {};

  function readMuted() {
    try {
      var value = JSON.parse(window.localStorage.getItem(MUTE_KEY) || "{}");
      return value && typeof value === "object" && !Array.isArray(value) ? value : {};
    } catch (error) {
      return {};
    }
  }

  function writeMuted() {
    try {
      window.localStorage.setItem(MUTE_KEY, JSON.stringify(muted));
    } catch (error) {
      /* private mode: muted for this page only */
    }
  }

  function isMuted(slug) {
    return Object.prototype.hasOwnProperty.call(muted, slug);
  }

  function plural(count, word) {
    return count + " " + word + (count === 1 ? "" : "s");
  }

  function showControl() {
    var control = document.querySelector("[data-mute-control]");
    if (!control) {
      return;
    }
    var slugs = Object.keys(muted).sort(function (a, b) {
      return String(muted[a]).localeCompare(String(muted[b]));
    });
    control.hidden = slugs.length === 0;
    control.querySelector("[data-mute-summary]").textContent = plural(slugs.length, "outlet") + " muted";
    var list = control.querySelector("[data-mute-list]");
    list.textContent = "";
    slugs.forEach(function (slug) {
      var item = document.createElement("li");
      var button = document.createElement("button");
      var hiddenName = document.createElement("span");
      item.appendChild(document.createTextNode(String(muted[slug]) + " "));
      button.type = "button";
      button.className = "link-button";
      button.setAttribute("data-unmute", slug);
      button.textContent = "Unmute";
      hiddenName.className = "visually-hidden";
      hiddenName.textContent = " " + String(muted[slug]);
      button.appendChild(hiddenName);
      item.appendChild(button);
      list.appendChild(item);
    });
  }

  // The attribute, not the property: SVG elements (a chart's marks) have no hidden property.
  function setHidden(element, hide) {
    if (hide) {
      element.setAttribute("hidden", "");
    } else {
      element.removeAttribute("hidden");
    }
  }

  function applyMuting() {
    each("[data-outlet]", function (element) {
      setHidden(element, isMuted(element.getAttribute("data-outlet")));
    });
    each("[data-lead-outlet]", function (card) {
      var hide = isMuted(card.getAttribute("data-lead-outlet"));
      var wrapper = card.parentNode && card.parentNode.classList.contains("search-result") ? card.parentNode : card;
      wrapper.hidden = hide;
    });
    // A card's names: the commas between the shown ones only, and no "including" without one.
    each(".outlet-names", function (names) {
      var shown = Array.prototype.filter.call(names.querySelectorAll(".outlet-name"), function (name) {
        return !name.hidden;
      });
      names.hidden = shown.length === 0;
      shown.forEach(function (name, index) {
        var separator = name.querySelector(".sep");
        if (separator) {
          separator.hidden = index === shown.length - 1;
        }
      });
    });
    each("[data-outlet-count]", function (count) {
      var total = parseInt(count.getAttribute("data-outlet-count"), 10) || 0;
      var slugs = (count.getAttribute("data-outlets") || "").split(" ").filter(Boolean);
      var left = total - slugs.filter(isMuted).length;
      count.textContent = "Reported by " + plural(Math.max(left, 0), "outlet");
    });
    each("section.day", function (section) {
      section.hidden = false; // so that closest() below finds only what is hidden inside it
      section.hidden = !Array.prototype.some.call(section.querySelectorAll(".story"), function (card) {
        return !card.closest("[hidden]");
      });
    });
    each("[data-mute]", function (button) {
      button.hidden = isMuted(button.getAttribute("data-mute"));
    });
    showControl();
  }

  function focusControl() {
    var control = document.querySelector("[data-mute-control]");
    var target = control && !control.hidden ? control.querySelector("[data-mute-summary]") : document.getElementById("main");
    if (target) {
      target.setAttribute("tabindex", "-1");
      target.focus();
    }
  }

  muted = readMuted();
  applyMuting();

  document.addEventListener("click", function (event) {
    var target = event.target.closest ? event.target.closest("[data-mute], [data-unmute], [data-unmute-all]") : null;
    if (!target) {
      return;
    }
    if (target.hasAttribute("data-mute")) {
      muted[target.getAttribute("data-mute")] = target.getAttribute("data-mute-name") || target.getAttribute("data-mute");
    } else if (target.hasAttribute("data-unmute")) {
      delete muted[target.getAttribute("data-unmute")];
    } else {
      muted = {};
    }
    writeMuted();
    applyMuting();
    focusControl(); // the button may have just vanished with its row
  });

  // Muted or unmuted in another tab: follow it.
  window.addEventListener("storage", function (event) {
    if (event.key === MUTE_KEY || event.key === null) {
      muted = readMuted();
      applyMuting();
    }
  });
})();
