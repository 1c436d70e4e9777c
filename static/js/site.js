/* Newsreader: a little help on top of pages that work without it.
   - A picture that fails to load gives way to its frame's placeholder.
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
    return Array.prototype.slice.call(document.querySelectorAll(ITEMS));
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
})();
