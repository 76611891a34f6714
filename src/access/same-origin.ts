import type { IncomingHttpHeaders } from 'node:http';

/** Methods that change nothing: no cross-site or CSRF check applies to them. */
export const SAFE_METHODS: ReadonlySet<string> = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * Whether a state-changing request may have come from another site's page (cross-site
 * request forgery). Browsers say where a request comes from in Sec-Fetch-Site and Origin;
 * scripts and curl send neither, and are not browsers that another site can drive.
 */
export function isCrossSite(method: string, headers: IncomingHttpHeaders): boolean {
  if (SAFE_METHODS.has(method)) return false;
  const site = headers['sec-fetch-site'];
  if (site !== undefined) return site !== 'same-origin' && site !== 'none';
  const origin = headers.origin;
  if (origin === undefined) return false;
  try {
    return new URL(origin).host !== headers.host;
  } catch {
    return true;
  }
}
