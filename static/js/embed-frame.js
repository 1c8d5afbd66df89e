/* The framed checkout's side of the postMessage contract with static/embed.js.
   Posts {type: "checkie:<name>", embedId, payload} to the parent window, only to the host
   origin the server validated (<body data-origin>; absent: nothing is posted, never to "*"):
   ready, resize {height} (on load, on every size change, after htmx swaps), and what the page
   shows: attempt_failed {code}, awaiting_action, completed {sessionId, paymentId}; and closed
   when Escape is pressed inside the frame. */
(function () {
  "use strict";
  var body = document.body;
  var data = body.dataset;
  var origin = data.origin;
  if (!origin || window.parent === window) return;

  function post(name, payload) {
    window.parent.postMessage({ type: "checkie:" + name, embedId: data.embedId, payload: payload || {} }, origin);
  }

  var lastHeight = -1;
  function resize() {
    // The body's own height: the document's scrollHeight never drops below the iframe's
    // height, so the frame could only ever grow.
    var height = Math.ceil(Math.max(body.getBoundingClientRect().height, body.scrollHeight));
    if (height !== lastHeight) {
      lastHeight = height;
      post("resize", { height: height });
    }
  }

  post("ready");
  resize();
  if (window.ResizeObserver) new ResizeObserver(resize).observe(body);
  window.addEventListener("load", resize);
  document.addEventListener("htmx:afterSettle", resize);

  // Escape pressed inside the frame never reaches the host page: ask embed.js to close its
  // overlay (an inline embed ignores it).
  document.addEventListener("keydown", function (event) {
    if (event.key === "Escape") post("closed");
  });

  if (data.failureCode) post("attempt_failed", { code: data.failureCode });
  if (data.state === "awaiting_action") post("awaiting_action");
  if (data.state === "completed") post("completed", { sessionId: data.sessionId, paymentId: data.paymentId ? Number(data.paymentId) : null });
})();
