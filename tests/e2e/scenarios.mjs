// The end-to-end scenarios: each drives the real @userfront/core through one user flow
// and returns what the pytest side needs to check beyond the common page state
// (cookies, Userfront.user, navigations, requests, warnings), which run.mjs adds.
//
// A scenario is `async (Userfront, args, page) => result`. An error thrown by the
// client (e.g. "Incorrect email or password") propagates and becomes the run's `error`.
// Arguments come from the pytest test as JSON; cookies from an earlier run are loaded
// into the page before the client starts, like a page reload after signing in.

/** Userfront.user without its methods (update, hasRole, ...), as plain JSON. */
export function userData(Userfront) {
  return Object.fromEntries(
    Object.entries(Userfront.user).filter(([, value]) => typeof value !== "function"),
  );
}

/** The uuid/token link credentials from a test-mode `result.link`. */
function linkCredentials(sent) {
  const link = sent?.result?.link;
  if (!link) throw new Error(`no result.link in the test-mode response: ${JSON.stringify(sent)}`);
  const query = new URL(link).searchParams;
  return { link, uuid: query.get("uuid"), token: query.get("token"), type: query.get("type") };
}

export const scenarios = {
  /** Userfront.setMode(): the tenant's mode and factors as seen from this page. */
  async mode(Userfront) {
    const data = await Userfront.setMode();
    return { mode: Userfront.mode.value, data };
  },

  /** Sign up with email + password. */
  async signup(Userfront, { email, password, name }) {
    return Userfront.signup({ method: "password", email, password, name });
  },

  /** Log in with email + password. */
  async login_password(Userfront, { email, password }) {
    return Userfront.login({ method: "password", email, password });
  },

  /** login({ method: "password-migrate" }) (passthrough): what the client handed to
   *  handleUpstreamResponse, next to the response. */
  async login_password_migrate(Userfront, { email, password }) {
    const seen = [];
    const result = await Userfront.login({
      method: "password-migrate",
      email,
      password,
      handleUpstreamResponse: (upstream) => seen.push(upstream),
    });
    return { result, upstream: seen };
  },

  /** user.update() (PUT /self, then a refresh so the ID token carries the change). */
  async update(Userfront, { changes }) {
    const returned = await Userfront.user.update(changes);
    return { returned: JSON.parse(JSON.stringify(returned)) };
  },

  /** tokens.refresh(). Failures are only logged by the client (see `warnings`). */
  async refresh(Userfront) {
    await Userfront.tokens.refresh();
    return {};
  },

  /** logout(): server-side revocation, cookies removed, navigation to redirectTo. */
  async logout(Userfront) {
    await Userfront.logout();
    return {};
  },

  /** sendResetLink(), then resetPassword() with the link's uuid/token. */
  async reset_password(Userfront, { email, password }) {
    const sent = await Userfront.sendResetLink(email);
    const { uuid, token } = linkCredentials(sent);
    const reset = await Userfront.resetPassword({ uuid, token, password });
    return { sent, reset };
  },

  /** sendLoginLink(), then login({ method: "link" }) with the link's uuid/token. */
  async login_link(Userfront, { email }) {
    const sent = await Userfront.sendLoginLink(email);
    const { uuid, token, type } = linkCredentials(sent);
    const login = await Userfront.login({ method: "link", uuid, token, linkType: type });
    return { sent, login };
  },

  /** sendVerificationCode() by email, then login({ method: "verificationCode" }). */
  async login_code(Userfront, { email }) {
    const sent = await Userfront.sendVerificationCode({ channel: "email", email });
    const verificationCode = sent?.result?.verificationCode;
    if (!verificationCode) {
      throw new Error(`no result.verificationCode in the test-mode response: ${JSON.stringify(sent)}`);
    }
    const login = await Userfront.login({
      method: "verificationCode",
      channel: "email",
      email,
      verificationCode,
    });
    return { sent, login };
  },

  /** user.hasRole() with the tokens on the page, then again after tokens.refresh(). */
  async has_role(Userfront, { role }) {
    const before = Userfront.user.hasRole(role);
    await Userfront.tokens.refresh();
    return { before, after: Userfront.user.hasRole(role) };
  },

  /** getSession(): refreshes first when only the refresh token is still valid. */
  async get_session(Userfront) {
    const { isLoggedIn, needsSecondFactor } = await Userfront.getSession();
    return { isLoggedIn, needsSecondFactor };
  },

  /** redirectIfLoggedOut(): must leave a signed-in page where it is. */
  async redirect_if_logged_out(Userfront, { redirect }) {
    await Userfront.redirectIfLoggedOut(redirect ? { redirect } : {});
    return {};
  },
};
