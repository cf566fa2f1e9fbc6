// Multi-factor scenarios (api-client §11): run.mjs loads these next to scenarios.mjs.
//
// The client keeps the firstFactorToken of an "MFA required" answer in page memory
// only, so a sign-in with two factors is ONE scenario doing every step on one page.
// Second-factor attempts are recorded one by one (`{result}` or `{error}`) instead of
// ending the run at the first refusal, so a test can check that a refused attempt leaves
// the sign-in open and a later attempt on the same page completes it.

import { freshCode } from "./totp.mjs";

/** What getSession() says, without its function member (resetMfaState). */
async function session(Userfront) {
  const { isLoggedIn, needsSecondFactor, secondFactors } = await Userfront.getSession();
  return { isLoggedIn, needsSecondFactor, secondFactors };
}

/** A plain-JSON copy of what the client returned (drops functions, undefined). */
function plain(value) {
  return value === undefined ? null : JSON.parse(JSON.stringify(value));
}

/** Run `step`; record its value as `result`, or the message the client threw as `error`. */
async function attempt(step) {
  try {
    return { result: plain(await step()), error: null };
  } catch (thrown) {
    return { result: null, error: thrown instanceof Error ? thrown.message : String(thrown) };
  }
}

/**
 * One second factor as the toolkit would submit it, with the firstFactorToken the client
 * holds (it adds the header itself):
 * - `{ method: "totp", totpSecret, lastStep? }`: the authenticator's current code;
 * - `{ method: "totp", totpCode }` or `{ method: "totp", backupCode }`: as given;
 * - `{ method: "sms", phoneNumber? }`: sendVerificationCode() then login() with the code
 *   the test-mode answer carries (a phoneNumber sets SMS up; without one the server
 *   uses the user's verified phone).
 */
async function secondFactor(Userfront, factor) {
  if (factor.method === "sms") {
    const sent = await attempt(() =>
      Userfront.sendVerificationCode({ channel: "sms", phoneNumber: factor.phoneNumber }),
    );
    if (sent.error) return { sent: null, error: sent.error, result: null };
    const verificationCode = sent.result?.result?.verificationCode;
    const login = await attempt(() =>
      Userfront.login({ method: "verificationCode", channel: "sms", verificationCode }),
    );
    return { sent: sent.result, ...login };
  }
  if (factor.method === "totp" && factor.totpSecret) {
    const { code, step } = await freshCode(factor.totpSecret, factor.lastStep ?? -1);
    const login = await attempt(() => Userfront.login({ method: "totp", totpCode: code }));
    return { totpCode: code, step, ...login };
  }
  if (factor.method === "totp") {
    const { totpCode, backupCode } = factor;
    return attempt(() => Userfront.login({ method: "totp", totpCode, backupCode }));
  }
  throw new Error(`unknown second factor ${JSON.stringify(factor)}`);
}

export const scenarios = {
  /** user.getTotp() on a page that is already signed in (the cookies passed in). */
  async get_totp(Userfront) {
    return plain(await Userfront.user.getTotp());
  },

  /**
   * Set up TOTP from a signed-in page (§9.5, §7.8): sign up with a password, fetch the
   * QR code and backup codes with user.getTotp() (access token), then confirm with the
   * authenticator's code through login({ method: "totp", totpCode, userId }).
   */
  async signup_enrol_totp(Userfront, { email, password, name }) {
    const signup = plain(await Userfront.signup({ method: "password", email, password, name }));
    const setup = plain(await Userfront.user.getTotp());
    const { code, step } = await freshCode(setup.totpSecret);
    const userId = Userfront.user.userId;
    const login = plain(await Userfront.login({ method: "totp", totpCode: code, userId }));
    return { signup, setup, userId, totpCode: code, step, login };
  },

  /**
   * Log in with a password; when that answers "MFA required", submit `factors` one
   * after the other on the same page (see `secondFactor`).
   */
  async login_mfa(Userfront, { email, password, factors = [] }) {
    const first = plain(await Userfront.login({ method: "password", email, password }));
    const pending = await session(Userfront);
    const attempts = [];
    for (const factor of factors) attempts.push(await secondFactor(Userfront, factor));
    return { first, pending, attempts, after: await session(Userfront) };
  },

  /**
   * Enrol TOTP during sign-up under `mfa.policy: "all"` (§11.3): sign up → "MFA
   * required" → user.getTotp() with the firstFactorToken → login({ method: "totp",
   * totpCode }) → signed in; then user.getTotp() again on the same page, where the
   * client still holds the used firstFactorToken (§9.5 "stale firstFactorToken").
   */
  async signup_mfa_enrol_totp(Userfront, { email, password, name }) {
    const signup = plain(await Userfront.signup({ method: "password", email, password, name }));
    const pending = await session(Userfront);
    const setup = plain(await Userfront.user.getTotp());
    const { code, step } = await freshCode(setup.totpSecret);
    const login = plain(await Userfront.login({ method: "totp", totpCode: code }));
    const after = await session(Userfront);
    const again = await attempt(() => Userfront.user.getTotp());
    return { signup, pending, setup, totpCode: code, step, login, after, again };
  },
};
