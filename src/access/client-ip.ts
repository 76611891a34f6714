import type { IncomingHttpHeaders } from 'node:http';
import parseForwarded from 'forwarded-parse';
import { normalizeIp, type AddressList } from './address-list.js';

export type ProxyHeader = 'x-forwarded-for' | 'forwarded';

/**
 * Decides who the client is, once per request. Forwarding headers count only when the
 * TCP peer is a trusted proxy; then the chain is walked from the right (the entries the
 * proxies appended) to the first address that is not itself a trusted proxy. Anything
 * unparseable yields undefined, which no allowlist admits.
 */
export function resolveClientIp(
  peer: string | undefined,
  headers: IncomingHttpHeaders,
  trustedProxies: AddressList,
  header: ProxyHeader,
): string | undefined {
  const direct = peer === undefined ? undefined : normalizeIp(peer);
  if (direct === undefined || !trustedProxies.contains(direct)) return direct;

  const chain = header === 'forwarded' ? forwardedChain(headers.forwarded) : forwardedForChain(headers['x-forwarded-for']);
  if (chain === undefined) return undefined;
  if (chain.length === 0) return direct;
  for (let i = chain.length - 1; i >= 0; i--) {
    const hop = chain[i];
    if (hop === undefined) return undefined;
    if (!trustedProxies.contains(hop)) return hop;
  }
  // Every hop is a trusted proxy: the leftmost is as far back as we can see.
  return chain[0];
}

/** Entries of X-Forwarded-For (repeated headers are joined by Node with ", "). */
function forwardedForChain(value: string | string[] | undefined): (string | undefined)[] | undefined {
  if (value === undefined) return [];
  const text = Array.isArray(value) ? value.join(',') : value;
  return text.split(',').map((part) => hopAddress(part.trim()));
}

/** `for=` parameters of RFC 7239 Forwarded, in order; undefined when the header is malformed. */
function forwardedChain(value: string | undefined): (string | undefined)[] | undefined {
  if (value === undefined) return [];
  try {
    return parseForwarded(value).map((element) => (element.for === undefined ? undefined : hopAddress(element.for)));
  } catch {
    return undefined;
  }
}

/** An address from a forwarding header: `1.2.3.4`, `1.2.3.4:80`, `[::1]`, `[::1]:80`. */
function hopAddress(text: string): string | undefined {
  if (text.startsWith('[')) {
    const end = text.indexOf(']');
    return end === -1 ? undefined : normalizeIp(text.slice(1, end));
  }
  const colons = text.split(':').length - 1;
  // One colon is IPv4 with a port; more is a bare IPv6 address.
  return normalizeIp(colons === 1 ? text.slice(0, text.indexOf(':')) : text);
}
