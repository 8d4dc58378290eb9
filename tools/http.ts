// HTTP(S) reads of the project's tools (the update center's metadata, Maven Central's Groovy),
// through the proxy the environment names, as curl and the Pulumi CLI take it: HTTPS_PROXY for
// https, HTTP_PROXY for http, NO_PROXY's hosts directly (and their lower-case spellings). Node's
// own fetch ignores those variables; undici's EnvHttpProxyAgent reads them.
import { EnvHttpProxyAgent, fetch, type Response } from "undici";

/** GET `url` through the environment's proxy, if it names one for that URL (read at each call). */
export function get(url: string, timeoutMs = 120_000): Promise<Response> {
    return fetch(url, { dispatcher: new EnvHttpProxyAgent(), signal: AbortSignal.timeout(timeoutMs) });
}
