// Run one end-to-end scenario (scenarios.mjs, scenarios_mfa.mjs) in a fresh jsdom page
// and print the outcome as JSON.
//
//   node tests/e2e/run.mjs <scenario> '<json args>'
//
// args: { apiUrl: "http://127.0.0.1:<port>/v0/", pageUrl: "http://localhost:<port>/login",
//         tenantId, cookies?: { name: value }, sourceAddress?: "127.x.y.z",
//         ...scenario arguments }
//
// Output (one JSON object on stdout; exit status 0 even when the scenario threw, so the
// caller can assert on `error`; 2 for a harness failure such as an unknown scenario):
//   { scenario, error, result, cookies, user, navigations, requests, warnings, jsdomErrors }

import { openPage } from "./browser.mjs";
import { scenarios as coreScenarios, userData } from "./scenarios.mjs";
import { scenarios as mfaScenarios } from "./scenarios_mfa.mjs";
import { scenarios as ssoScenarios } from "./scenarios_sso.mjs";
import { scenarios as samlScenarios } from "./scenarios_saml.mjs";

const scenarios = { ...coreScenarios, ...mfaScenarios, ...ssoScenarios, ...samlScenarios };

function finish(output, status) {
  // Exit explicitly: idle keep-alive sockets would otherwise hold the process open.
  process.stdout.write(`${JSON.stringify(output)}\n`, () => process.exit(status));
}

const [name, rawArgs = "{}"] = process.argv.slice(2);
const scenario = Object.hasOwn(scenarios, name) ? scenarios[name] : undefined;
if (!scenario) {
  finish({ scenario: name, error: `unknown scenario; known: ${Object.keys(scenarios).join(", ")}` }, 2);
} else {
  const { apiUrl, pageUrl, tenantId, cookies = {}, sourceAddress, ...args } = JSON.parse(rawArgs);

  // What the client logs (e.g. "Refresh failed: Invalid token"): it swallows some
  // failures and only warns, so tests need to see these.
  const warnings = [];
  for (const level of ["warn", "error"]) {
    console[level] = (...parts) => warnings.push(parts.map(String).join(" "));
  }

  // The page must exist before the client is imported (see browser.mjs).
  const page = openPage(pageUrl, cookies, sourceAddress);
  const { default: Userfront } = await import("@userfront/core");
  Userfront.init(tenantId, { baseUrl: apiUrl });

  let result = null;
  let error = null;
  try {
    result = (await scenario(Userfront, args, page)) ?? null;
  } catch (thrown) {
    error = thrown instanceof Error ? thrown.message : String(thrown);
  }

  finish(
    {
      scenario: name,
      error,
      result,
      cookies: page.cookies(),
      user: userData(Userfront),
      navigations: page.navigations,
      requests: page.requests,
      warnings,
      jsdomErrors: page.jsdomErrors,
    },
    0,
  );
}
