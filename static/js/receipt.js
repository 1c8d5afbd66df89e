// The receipt's Print button (templates/portal/receipt.html): shown only where it can work.
"use strict";

document.querySelectorAll("[data-print]").forEach((button) => {
  button.hidden = false;
  button.addEventListener("click", () => window.print());
});
