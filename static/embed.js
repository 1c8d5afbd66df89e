/* Checkie embed.js: turns each <div data-checkie-embed="emb_…" data-type data-src
 * [data-button-text data-brand-color]> (the dashboard's snippet) into the checkout. No dependencies.
 *   inline: an <iframe> (data-src?origin=<this page's origin>) that follows its content height.
 *   button: a <button class="checkie-button"> opening the checkout in a modal overlay (focus trap,
 *           Escape closes); its style has no specificity (yours wins), its colour --checkie-brand.
 *   link:   the snippet is a plain <a>; nothing to do.
 * The frame posts {type: "checkie:<name>", embedId, payload} to this page. Only messages from
 * data-src's origin, from this embed's own frame and for its embedId are used; each is re-emitted
 * as new CustomEvent(type, {detail: payload, bubbles: true}) on the data-checkie-embed element:
 *   checkie:ready {}                checkie:resize {height}      checkie:attempt_failed {code}
 *   checkie:awaiting_action {}      checkie:completed {sessionId, paymentId}
 *   checkie:closed {}  (the overlay was closed: its × button, the backdrop, or Escape here or in the frame)
 * Checkie.scan() sets up embeds added to the page later. */
(function (w, d) {
  "use strict";
  if (w.Checkie && w.Checkie.scan) return w.Checkie.scan();
  var script = d.currentScript, embeds = [], current, NAMES = /^checkie:(ready|resize|attempt_failed|awaiting_action|completed|closed)$/;

  function emit(e, type, detail) {
    e.el.dispatchEvent(new CustomEvent(type, {detail: detail || {}, bubbles: true}));
  }

  function css(el, styles) {
    for (var k in styles) el.style[k] = styles[k];
    return el;
  }

  function make(tag, styles, parent) {
    var el = css(d.createElement(tag), styles || {});
    if (parent) parent.appendChild(el);
    return el;
  }

  function style() {
    style.s = style.s || (make("style", 0, d.head).textContent = ":where(.checkie-button){background:var(--checkie-brand,#524ed2);" +
      "color:var(--checkie-brand-text,#fff);border:0;border-radius:.375rem;padding:.75rem 1.5rem;font:600 1rem/1.25 sans-serif;cursor:pointer}");
  }

  function frame(e, parent, height) {
    var f = e.frame = make("iframe", {width: "100%", height: height, border: "0", display: "block"}, parent);
    f.title = "Checkout";
    f.allow = "payment";
    f.src = e.src + (/\?/.test(e.src) ? "&" : "?") + "origin=" + encodeURIComponent(location.origin);
    return f;
  }

  function overlay(e) {
    var dark = e.el.getAttribute("data-theme") == "dark" || e.el.getAttribute("data-theme") != "light" &&
          w.matchMedia && matchMedia("(prefers-color-scheme: dark)").matches,
      o = e.overlay = make("div", {position: "fixed", inset: "0", zIndex: "2147483647", overflow: "auto",
        background: "rgba(0,0,0,.6)", display: "flex", padding: "2rem 1rem"}, d.body),
      first = make("span", 0, o),
      box = make("div", {position: "relative", margin: "auto", width: "100%", maxWidth: "34rem", borderRadius: "8px",
        padding: "2.5rem 0 .5rem", background: dark ? "#13171f" : "#fff", colorScheme: dark ? "dark" : "light"}, o),
      x = e.x = make("button", {position: "absolute", top: ".25rem", right: ".5rem", font: "1.75rem/1 sans-serif",
        padding: ".25rem .5rem", border: "0", background: "none", color: dark ? "#fff" : "#000", cursor: "pointer"}, box),
      last = make("span", 0, o);
    o.setAttribute("role", "dialog");
    o.setAttribute("aria-modal", "true");
    o.setAttribute("aria-label", e.label);
    x.type = "button";
    x.textContent = "\u00d7";
    x.setAttribute("aria-label", "Close");
    first.tabIndex = last.tabIndex = 0;
    // Tab past the frame's last field, or Shift+Tab before the close button: cycle in the dialog.
    first.onfocus = function () { e.frame.focus(); };
    last.onfocus = function () { x.focus(); };
    x.onclick = function () { close(e); };
    o.onclick = function (ev) { if (ev.target == o) close(e); };
    frame(e, box, "70vh");
  }

  function open(e) {
    if (current) return;
    if (!e.overlay) overlay(e);
    e.scroll = d.documentElement.style.overflow;
    d.documentElement.style.overflow = "hidden";
    e.overlay.style.display = "flex";
    e.x.focus();
    current = e;
  }

  function close(e) {
    if (current != e) return;
    current = null;
    e.overlay.style.display = "none";
    d.documentElement.style.overflow = e.scroll;
    e.button.focus();
    emit(e, "checkie:closed");
  }

  function setup(e) {
    var type = e.el.getAttribute("data-type"), mount = e.el;
    if (e.el.tagName == "SCRIPT") e.el.parentNode.insertBefore(mount = d.createElement("div"), e.el.nextSibling);
    e.origin = new URL(e.src, location.href).origin;
    if (type == "inline") return frame(e, mount, "30rem");
    if (type != "button") return;
    var b = e.button = make("button", 0, mount), c = e.el.getAttribute("data-brand-color"), n;
    style();
    b.type = "button";
    b.className = "checkie-button";
    if (/^#[0-9a-f]{6}$/i.test(c)) {
      n = parseInt(c.slice(1), 16);
      // Black text on a light colour, as theme.css.
      b.style.cssText = "--checkie-brand:" + c + ((n >> 16) * 299 + (n >> 8 & 255) * 587 + (n & 255) * 114 > 160000 ? ";--checkie-brand-text:#000" : "");
    }
    b.textContent = e.label = e.el.getAttribute("data-button-text") || "Buy now";
    b.setAttribute("aria-haspopup", "dialog");
    b.onclick = function () { open(e); };
  }

  function scan() {
    var els = d.querySelectorAll("[data-checkie-embed]"), i, el, e;
    for (i = 0; i < els.length; i++) {
      el = els[i];
      if (el._checkie) continue;
      e = el._checkie = {el: el, id: el.getAttribute("data-checkie-embed"), src: el.getAttribute("data-src")};
      embeds.push(e);
      if (e.src) setup(e);
      else if (script && script.src) (function (e) {
        // No data-src: ask the widget API next to this script for the embed's iframe URL.
        fetch(new URL("/api/widget/embed/" + encodeURIComponent(e.id), script.src)).then(function (r) {
          return r.json();
        }).then(function (c) {
          if (!c.iframeUrl) return;
          e.src = c.iframeUrl;
          if (!e.el.getAttribute("data-type")) e.el.setAttribute("data-type", c.type);
          if (!e.el.getAttribute("data-button-text") && c.settings) e.el.setAttribute("data-button-text", c.settings.buttonText);
          if (!e.el.getAttribute("data-brand-color") && c.settings && c.settings.brandColor) e.el.setAttribute("data-brand-color", c.settings.brandColor);
          setup(e);
        });
      })(e);
    }
  }

  w.addEventListener("message", function (m) {
    var data = m.data, i, e, h;
    if (!data || typeof data.type != "string" || !NAMES.test(data.type)) return;
    for (i = 0; i < embeds.length; i++) {
      e = embeds[i];
      if (!e.frame || m.source != e.frame.contentWindow || m.origin != e.origin || data.embedId != e.id) continue;
      h = data.payload && +data.payload.height;
      if (data.type == "checkie:resize" && h > 0) e.frame.style.height = Math.ceil(h) + "px";
      // The frame asks for "closed" on Escape; only an open overlay can close.
      if (data.type == "checkie:closed") { if (current == e) close(e); }
      else emit(e, data.type, data.payload);
    }
  });

  d.addEventListener("keydown", function (ev) {
    if (ev.key == "Escape" && current) close(current);
  });
  // Focus that lands outside the open dialog (a click, a screen reader) goes back to it.
  d.addEventListener("focusin", function (ev) {
    if (current && !current.overlay.contains(ev.target)) current.x.focus();
  });

  w.Checkie = {scan: scan};
  if (d.readyState == "loading") d.addEventListener("DOMContentLoaded", scan);
  else scan();
})(window, document);
