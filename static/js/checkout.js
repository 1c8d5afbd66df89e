/* The checkout form saves as the shopper goes (htmx posts on "change") and pays with a plain
   form post. htmx queues a change that happens while a save is in flight and sends it when
   that save returns; once the shopper has pressed Pay, such a late save would reach the
   server after the payment began and be refused (409). The payment post carries every field
   anyway, so from then on no save is sent. Every page works without this file. */
(function () {
  "use strict";
  var paying = false;

  // Saves are htmx requests and never fire "submit"; a submit that goes through is the payment.
  document.addEventListener("submit", function (event) {
    if (event.target.id === "checkout-form" && !event.defaultPrevented) paying = true;
  });
  document.addEventListener("htmx:beforeRequest", function (event) {
    if (paying && event.target.closest("#checkout-form")) event.preventDefault();
  });
  // A page restored from the back/forward cache is live again.
  window.addEventListener("pageshow", function () { paying = false; });
})();

/* The TEST MODE card form on phones: the number is spaced in groups of four and the expiry gets
   its "/" as digits are typed (numeric keypads have none). Each input is rewritten from its
   digits and the caret put back after the same digit, so typing in the middle, deleting and
   pasting ("4242424242424242", "12/30", "12/2030") all work. Without this file the server reads
   the number and the expiry in any of those forms. */
(function () {
  "use strict";

  function groups(digits) {
    return digits.slice(0, 19).replace(/(\d{4})(?=\d)/g, "$1 ");
  }

  function expiry(digits, raw, deleting) {
    if (digits.length === 6 || /\/\s*\d{4}\s*$/.test(raw)) digits = digits.slice(0, 2) + digits.slice(-2);
    // No month starts with 2–9 or 13–19: "4" is April ("04/"), "13" is January of 2030-something.
    if (/^([2-9]|1[3-9])/.test(digits) || /^1\s*\//.test(raw)) digits = "0" + digits;
    digits = digits.slice(0, 4);
    return digits.length > 2 || (digits.length === 2 && !deleting) ? digits.slice(0, 2) + "/" + digits.slice(2) : digits;
  }

  // Where the caret goes in `text`: after its `count`-th digit, and past a separator that follows
  // while typing ("12|/" → "12/|"), so the next digit lands after it.
  function caretAfter(text, count, deleting) {
    var position = 0;
    while (count > 0 && position < text.length) {
      if (/\d/.test(text[position])) count--;
      position++;
    }
    if (!deleting && position < text.length && /\D/.test(text[position])) position++;
    return position;
  }

  // Rewrite one card input from its digits; `inputType` is the edit that changed it (none on load).
  function format(input, inputType) {
    var kind = input.dataset.format;
    var raw = input.value, caret = input.selectionStart === null ? raw.length : input.selectionStart;
    var deleting = /^delete/.test(inputType || "");
    var digits = raw.replace(/\D/g, ""), before = raw.slice(0, caret).replace(/\D/g, "").length;
    // Backspace over a separator alone removes the digit before it, as shoppers expect.
    if (inputType === "deleteContentBackward" && digits === (input._digits || "") && before > 0) {
      digits = digits.slice(0, before - 1) + digits.slice(before);
      before--;
    }
    var text = kind === "card-number" ? groups(digits) : expiry(digits, raw, deleting);
    if (kind === "card-expiry" && text.charAt(0) === "0" && digits.charAt(0) !== "0") before++;
    input._digits = text.replace(/\D/g, "");
    if (text === raw) return;
    input.value = text;
    if (document.activeElement === input) {
      var position = caretAfter(text, Math.min(before, input._digits.length), deleting);
      input.setSelectionRange(position, position);
    }
  }

  document.addEventListener("input", function (event) {
    var kind = event.target.dataset && event.target.dataset.format;
    if (kind === "card-number" || kind === "card-expiry") format(event.target, event.inputType);
  });
  // A form the server sent back (with its errors) shows what was typed, tidied the same way.
  document.querySelectorAll('[data-format="card-number"], [data-format="card-expiry"]').forEach(function (input) {
    format(input);
  });
})();
