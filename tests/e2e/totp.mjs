// RFC 6238 TOTP codes for the end-to-end tests: what an authenticator app would show
// after scanning the secret the service handed out. Test-side only (node:crypto), so
// the service's pyotp is checked against an independent implementation.
//
// Parameters as the service publishes them in its otpauth:// URI (api-client §9.5):
// HMAC-SHA1, 6 digits, 30-second steps.

import { createHmac } from "node:crypto";

export const STEP_SECONDS = 30;
const DIGITS = 6;
const BASE32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

/** RFC 4648 base32 (upper or lower case, padding and spaces ignored) to bytes. */
export function base32Decode(text) {
  const clean = String(text).replace(/[\s=]/g, "").toUpperCase();
  let bits = 0;
  let value = 0;
  const out = [];
  for (const char of clean) {
    const index = BASE32.indexOf(char);
    if (index < 0) throw new Error(`not base32: ${JSON.stringify(text)}`);
    value = (value << 5) | index;
    bits += 5;
    if (bits >= 8) {
      out.push((value >>> (bits - 8)) & 0xff);
      bits -= 8;
    }
  }
  return Buffer.from(out);
}

/** The time step (RFC 6238 T) of a moment given in milliseconds since the epoch. */
export function stepAt(milliseconds = Date.now()) {
  return Math.floor(milliseconds / 1000 / STEP_SECONDS);
}

/** The code of time step `step` (RFC 4226 HOTP with the step as counter). */
export function codeAt(secret, step) {
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(step));
  const mac = createHmac("sha1", base32Decode(secret)).update(counter).digest();
  const offset = mac[mac.length - 1] & 0x0f; // dynamic truncation
  const binary = mac.readUInt32BE(offset) & 0x7fffffff;
  return String(binary % 10 ** DIGITS).padStart(DIGITS, "0");
}

/**
 * A code the service has not seen yet: the current step, or the step after `lastStep`
 * when that one was already used (the service accepts the next step too, RFC 6238 §5.2,
 * and refuses a step used before). Waits only if even the next step is taken.
 * @returns {Promise<{code: string, step: number}>}
 */
export async function freshCode(secret, lastStep = -1) {
  let step = Math.max(stepAt(), lastStep + 1);
  while (step > stepAt() + 1) {
    await new Promise((resolve) => setTimeout(resolve, 1000));
    step = Math.max(stepAt(), lastStep + 1);
  }
  return { code: codeAt(secret, step), step };
}
