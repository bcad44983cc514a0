/* The API's documentation page (/docs): Swagger UI on the OpenAPI document, every file from
   this server, nothing inline. */
(function () {
  "use strict";
  var root = document.getElementById("swagger-ui");
  window.ui = SwaggerUIBundle({
    url: root.dataset.spec,
    domNode: root,
    deepLinking: true,
    // The default asks validator.swagger.io about the document: nothing leaves this server.
    validatorUrl: null,
    presets: [SwaggerUIBundle.presets.apis],
  });
})();
