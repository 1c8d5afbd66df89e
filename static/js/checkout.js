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
