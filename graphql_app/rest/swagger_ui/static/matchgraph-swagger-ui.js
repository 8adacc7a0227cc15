// Starts Swagger UI on the page's OpenAPI document (the URL is in the page's JSON config block; the page has no
// inline script, so its Content-Security-Policy allows scripts from this server only).
(function () {
  "use strict";
  var config = JSON.parse(document.getElementById("matchgraph-swagger-ui-config").textContent);
  window.ui = SwaggerUIBundle({
    url: config.url,
    dom_id: "#swagger-ui",
    deepLinking: true,
    persistAuthorization: false,
    // Never send the document to an outside validator (the default is validator.swagger.io).
    validatorUrl: null,
  });
})();
