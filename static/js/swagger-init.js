// Starts Swagger UI on /api/docs/ from the data attributes of #swagger-ui (no inline script, so
// the page works under the Content-Security-Policy). Session-authenticated "Try it out" writes
// send the CSRF token in the header Django expects.
"use strict";
(() => {
  const root = document.getElementById("swagger-ui");
  const data = root.dataset;
  const requestInterceptor = (request) => {
    if (!["GET", undefined].includes(request.method) && request.credentials === "same-origin") {
      request.headers[data.csrfHeader] = data.csrfToken;
    }
    return request;
  };
  window.ui = window.SwaggerUIBundle({
    url: data.schemaUrl,
    dom_id: "#swagger-ui",
    presets: [window.SwaggerUIBundle.presets.apis],
    layout: "BaseLayout",
    requestInterceptor,
    ...JSON.parse(data.settings),
  });
})();
