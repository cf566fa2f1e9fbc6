// SAML scenarios (api-client §12, docs/saml.md): the page is already signed in (its
// token cookies are passed in), and the real client trades its access token for a SAML
// token and navigates to the IdP's login / logout URL, which the pytest side follows.

export const scenarios = {
  /** Userfront.login({ method: "saml" }): GET /auth/saml/idp/token, then navigate. */
  async login_saml(Userfront) {
    return Userfront.login({ method: "saml" }) ?? null;
  },

  /** Userfront.logout({ method: "saml" }): the same for the logout URL; the page's own
   *  token cookies stay (the user stays signed in to the tenant's app). */
  async logout_saml(Userfront) {
    return Userfront.logout({ method: "saml" }) ?? null;
  },
};
