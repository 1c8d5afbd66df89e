// Boots the vendored Swagger UI on /api/docs. Kept out of the page so the CSP needs no
// inline scripts; the spec URL comes from the page's data-spec-url attribute.
(function () {
  "use strict";

  function start() {
    var root = document.getElementById("swagger-ui");
    if (!root || typeof window.SwaggerUIBundle !== "function") {
      return;
    }
    window.checkieApiDocs = window.SwaggerUIBundle({
      url: root.dataset.specUrl,
      domNode: root,
      deepLinking: true,
      // The base layout: no top bar with a box for loading arbitrary spec URLs.
      presets: [window.SwaggerUIBundle.presets.apis],
      layout: "BaseLayout",
      // Requests made from "Try it out" go to this origin only, with the token the reader enters.
      withCredentials: false,
      persistAuthorization: false
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
