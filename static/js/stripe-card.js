/* Stripe mode of the checkout (hosted and framed; checkie/storefront/stripe_mode.py). Loaded after
   Stripe.js, with the store's publishable key on this script's tag (no inline script: the CSP
   forbids it).

   Paying: the card is typed into Stripe.js's card Element, mounted in #checkout-card-element.
   Pay is stopped, Stripe.js turns the card into a token (createToken), and the form is posted
   for real with only the token's id in the hidden `payment_method` input: the card number never
   reaches Checkie. This listener runs in the capture phase, before checkout.js's, so a payment
   it holds back is not taken for one under way there (checkout.js stops autosaves once paying).

   3-D Secure: the session's page shows a button carrying the intent's client secret; Stripe.js
   confirms it (a payment, or a free trial's card: `seti_…`), then the session's page is loaded
   again, and goes on once Stripe's event has reached Checkie. The button sits in the status
   block that htmx swaps every 2 s, so its click is bound on the document. */
(function () {
  "use strict";
  var key = document.currentScript && document.currentScript.dataset.stripeKey;
  if (!key || typeof window.Stripe !== "function") return;
  var stripe = window.Stripe(key);
  var MISSING = "Enter your card details.";
  var card = null, tokenizing = false, tokenized = false;

  var mountPoint = document.getElementById("checkout-card-element");
  if (mountPoint) {
    card = stripe.elements().create("card");
    card.mount(mountPoint);
    // Stripe.js says at once what is wrong with the card as it is typed (localstripe says nothing).
    card.on("change", function (event) { showError(event && event.error ? event.error.message : ""); });
  }

  function showError(message) {
    var slot = document.getElementById("checkout-payment_method-error");
    if (slot) slot.textContent = message || "";
  }

  function isPay(event) {
    return event.target.id === "checkout-form" && event.submitter && event.submitter.id === "checkout-pay";
  }

  document.addEventListener("submit", function (event) {
    if (!card || !isPay(event)) return;
    if (tokenized) { tokenized = false; return; } // the post below, with the token: let it go
    event.preventDefault();
    if (tokenizing) return;
    tokenizing = true;
    var form = event.target, button = event.submitter;
    var name = form.elements.namedItem("name");
    button.setAttribute("aria-busy", "true");
    Promise.resolve()
      .then(function () { return stripe.createToken(card, name && name.value ? { name: name.value } : {}); })
      .catch(function () { return { error: { message: MISSING } }; })
      .then(function (result) {
        tokenizing = false;
        button.removeAttribute("aria-busy");
        if (!result || result.error || !result.token) {
          showError((result && result.error && result.error.message) || MISSING);
          return;
        }
        showError("");
        form.elements.namedItem("payment_method").value = result.token.id;
        tokenized = true;
        // The Pay button in the page now (htmx may have swapped it meanwhile): its formaction is the pay URL.
        form.requestSubmit(document.getElementById("checkout-pay"));
      });
  }, true);

  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest("[data-stripe-confirm]");
    if (!button || button.disabled) return;
    var secret = button.dataset.stripeConfirm, back = button.dataset.return;
    var error = document.getElementById("checkout-confirm-error");
    button.disabled = true;
    button.setAttribute("aria-busy", "true");
    var confirming = /^seti_/.test(secret) ? stripe.confirmCardSetup(secret) : stripe.confirmCardPayment(secret);
    Promise.resolve(confirming)
      .catch(function (problem) { return { error: problem || {} }; })
      .then(function (result) {
        // A failed authentication reaches Checkie as Stripe's event too; the page then says why.
        if (result && result.error && result.error.message && error) error.textContent = result.error.message;
        window.location.assign(back || window.location.href);
      });
  });

  // A page restored from the back/forward cache must not post a token already used.
  window.addEventListener("pageshow", function () {
    var input = document.getElementById("checkout-payment_method");
    if (input) input.value = "";
    tokenized = tokenizing = false;
  });
})();
