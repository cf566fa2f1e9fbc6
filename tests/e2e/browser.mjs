// A jsdom "browser tab" for running the unmodified @userfront/core inside Node.
//
// @userfront/core is a browser bundle: it reads `window`, `document`, `navigator`,
// `localStorage` and `XMLHttpRequest` as free globals, and its bundled axios decides
// at *import time* which transport it has (`typeof XMLHttpRequest`, `typeof fetch`).
// So `openPage()` must run before the library is imported; run.mjs imports it
// dynamically afterwards.
//
// What this module guarantees:
// - Every API request goes through jsdom's own XMLHttpRequest, bound to a page whose
//   origin (http://localhost:<port>) differs from the API's (http://127.0.0.1:<port>).
//   jsdom implements the browser CORS algorithm for XHR: it sends the OPTIONS preflight
//   for the non-simple headers the client adds (authorization, content-type: json,
//   x-userfront-source), and turns a response without a matching
//   Access-Control-Allow-Origin into a network error ("Network Error" in axios).
//   Node's own fetch is removed from the global scope so axios cannot fall back to a
//   transport that ignores CORS.
// - Navigations are recorded instead of performed (jsdom cannot navigate to another
//   document; see `makeLocation`).
// - Cookies live in the page's cookie jar and are read back with document.cookie,
//   exactly where the client's js-cookie wrote them.
// - Connections can leave from a chosen loopback address (all of 127/8 is loopback on
//   Linux), so the service's per-IP rate limits count each test separately, as the
//   Python API tests do (infra.local.testing.loopback_address).

import { JSDOM, VirtualConsole, requestInterceptor } from "jsdom";
import { Agent } from "undici";

/**
 * A stand-in for `window.location` that reads through to the real jsdom Location but
 * records navigations. jsdom's Location members are [LegacyUnforgeable] (own,
 * non-configurable, non-writable), so neither `assign` nor the `href` setter can be
 * replaced on the real object, and a Proxy may not report a different `assign` either.
 * A plain object with getters avoids both limits.
 */
function makeLocation(realLocation, navigations) {
  const record = (how) => (url) => {
    // Resolve like a browser would, so tests compare absolute URLs.
    navigations.push({ how, url: new URL(String(url), realLocation.href).href });
  };
  const location = {
    assign: record("assign"),
    replace: record("replace"),
    reload: () => navigations.push({ how: "reload", url: realLocation.href }),
    toString: () => realLocation.href,
  };
  for (const name of ["origin", "protocol", "host", "hostname", "port", "pathname", "search", "hash"]) {
    Object.defineProperty(location, name, { get: () => realLocation[name], enumerable: true });
  }
  Object.defineProperty(location, "href", {
    get: () => realLocation.href,
    set: record("href"),
    enumerable: true,
  });
  return location;
}

/**
 * The object installed as the global `window`: the jsdom window, except that
 * `location` is the recording stand-in. Reads use the real window as receiver and
 * methods are bound to it, because jsdom's accessors and methods check `this`.
 */
function makeWindow(realWindow, location) {
  return new Proxy(realWindow, {
    get(target, name) {
      if (name === "location") return location;
      const value = Reflect.get(target, name, target);
      if (typeof value !== "function") return value;
      // A Proxy must return the exact value of a non-configurable, non-writable
      // property; every other function is bound so `window.atob(...)` etc. work.
      const own = Object.getOwnPropertyDescriptor(target, name);
      if (own && !own.configurable && !own.writable) return value;
      // Constructors (window.Event, ...) must stay constructible: only bind plain methods.
      return value.prototype ? value : value.bind(target);
    },
    set(target, name, value) {
      if (name === "location") {
        location.href = value;
        return true;
      }
      return Reflect.set(target, name, value, target);
    },
  });
}

/** Install a value as a global, replacing Node's own if it has one (e.g. `navigator`). */
function setGlobal(name, value) {
  Object.defineProperty(globalThis, name, { value, writable: true, configurable: true });
}

/**
 * Open a page at `pageUrl` and make it the global browser environment.
 * @param {string} pageUrl e.g. "http://localhost:5173/login"
 * @param {Object<string,string>} cookies cookies already in the jar (a "reload" of a
 *   page where the user signed in before), written through document.cookie
 * @param {string} [sourceAddress] local address to connect from, e.g. "127.23.4.5"
 */
export function openPage(pageUrl, cookies = {}, sourceAddress = undefined) {
  const navigations = [];
  const requests = [];
  const jsdomErrors = [];

  const virtualConsole = new VirtualConsole();
  virtualConsole.on("jsdomError", (error) => jsdomErrors.push(error.message));

  const dom = new JSDOM("<!doctype html><html><head></head><body></body></html>", {
    url: pageUrl,
    virtualConsole,
    // Observe (never alter) what goes over the wire, preflights included.
    resources: {
      // jsdom sends through undici; this agent only fixes the local end of the socket.
      dispatcher: sourceAddress ? new Agent({ connect: { localAddress: sourceAddress } }) : undefined,
      interceptors: [
        requestInterceptor((request) => {
          requests.push({
            method: request.method,
            url: request.url,
            origin: request.headers.get("origin"),
            authorization: request.headers.get("authorization"),
          });
          return undefined; // continue to the network
        }),
      ],
    },
  });
  const realWindow = dom.window;
  const location = makeLocation(realWindow.location, navigations);
  const window = makeWindow(realWindow, location);

  for (const [name, value] of Object.entries(cookies)) {
    realWindow.document.cookie = `${name}=${value}; path=/`;
  }

  setGlobal("window", window);
  setGlobal("self", window);
  setGlobal("document", realWindow.document);
  setGlobal("location", location);
  setGlobal("navigator", realWindow.navigator);
  setGlobal("history", realWindow.history);
  setGlobal("localStorage", realWindow.localStorage);
  setGlobal("XMLHttpRequest", realWindow.XMLHttpRequest);
  // No CORS-unaware transport: axios's fetch adapter needs a global fetch.
  delete globalThis.fetch;

  return {
    window: realWindow,
    navigations,
    requests,
    jsdomErrors,
    /** The cookies visible to scripts on this page, as name -> value. */
    cookies() {
      const jar = {};
      const text = realWindow.document.cookie;
      if (!text) return jar;
      for (const pair of text.split("; ")) {
        const at = pair.indexOf("=");
        jar[decodeURIComponent(pair.slice(0, at))] = decodeURIComponent(pair.slice(at + 1));
      }
      return jar;
    },
    close() {
      realWindow.close();
    },
  };
}
