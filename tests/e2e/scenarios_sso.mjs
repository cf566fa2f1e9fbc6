// SSO scenarios (docs/sso.md): what `@userfront/core` does at each end of a sign-on.
// The provider round-trip between them is driven by the Python test, as a browser.

export const scenarios = {
  /** signup()/login() with an SSO method: the client navigates to the start URL. */
  async sso_start(Userfront, { action, method, providerId, redirect }) {
    const options = { method };
    if (providerId) options.providerId = providerId;
    if (redirect !== undefined) options.redirect = redirect;
    await Userfront[action](options);
  },

  /** Back on the login page with `?uuid&token&type=sso`: the link log-in the toolkit
   *  does reads them from the page's query and yields tokens. */
  async sso_finish(Userfront) {
    return await Userfront.login({ method: "link" });
  },
};
