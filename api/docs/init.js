/*
 * The API reference page: Swagger UI (swagger-ui-dist, pinned in
 * api/package.json) rendering /api/v1/schema/.  A file, not an inline
 * script: the site's Content-Security-Policy allows scripts from 'self'
 * only.  No validator badge (it would load an image from
 * validator.swagger.io); "Try it out" only for reads, with the
 * browser's own session cookie.
 */
window.addEventListener("load", function () {
	window.ui = SwaggerUIBundle({
		url: "/api/v1/schema/",
		dom_id: "#swagger-ui",
		deepLinking: true,
		validatorUrl: null,
		supportedSubmitMethods: ["get", "head"],
		defaultModelsExpandDepth: 0,
		docExpansion: "list",
		withCredentials: true
	});
});
