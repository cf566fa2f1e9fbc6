// Configures the toolkit for the local API. The web components call
// Userfront.init themselves only when given a tenant-id attribute, and then without a
// base URL (api.userfront.com): so the pages give none and init here, before they mount.
(function () {
  "use strict";
  var config = window.PORTCULLIS_DEMO;
  window.Userfront.init(config.tenantId, { baseUrl: config.baseUrl });

  // The dashboard shows who is signed in (read from the ID token the client keeps).
  document.addEventListener("DOMContentLoaded", function () {
    if (window.location.pathname !== "/dashboard") return;
    var user = window.Userfront.user || {};
    var signedIn = Boolean(window.Userfront.tokens.accessToken && user.userId);
    document.getElementById("signed-in").hidden = !signedIn;
    document.getElementById("signed-out").hidden = signedIn;
    if (signedIn) {
      document.getElementById("user-email").textContent = user.email || "";
      document.getElementById("user-name").textContent = user.name || "";
    }
  });
})();
