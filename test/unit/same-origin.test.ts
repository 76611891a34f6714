import type { IncomingHttpHeaders } from 'node:http';
import { describe, expect, it } from 'vitest';
import { isCrossSite } from '../../src/access/same-origin.js';

const HOST = '127.0.0.1:8080';

describe('isCrossSite', () => {
  it.each(['GET', 'HEAD', 'OPTIONS'])('%s is never cross-site, whatever the headers say', (method) => {
    for (const headers of [
      { host: HOST, 'sec-fetch-site': 'cross-site' },
      { host: HOST, 'sec-fetch-site': 'same-site' },
      { host: HOST, origin: 'http://evil.example' },
      { host: HOST, origin: 'null' },
    ] satisfies IncomingHttpHeaders[]) {
      expect(isCrossSite(method, headers), JSON.stringify(headers)).toBe(false);
    }
  });

  const unsafe: [string, IncomingHttpHeaders, boolean][] = [
    // Browsers say where the request comes from.
    ['Sec-Fetch-Site cross-site', { host: HOST, 'sec-fetch-site': 'cross-site' }, true],
    ['Sec-Fetch-Site same-site (a sibling subdomain is another origin)', { host: HOST, 'sec-fetch-site': 'same-site' }, true],
    ['Sec-Fetch-Site same-origin', { host: HOST, 'sec-fetch-site': 'same-origin' }, false],
    ['Sec-Fetch-Site none (typed in, bookmark)', { host: HOST, 'sec-fetch-site': 'none' }, false],
    ['Sec-Fetch-Site with an unexpected value', { host: HOST, 'sec-fetch-site': 'whatever' }, true],
    ['Sec-Fetch-Site cross-site wins over a matching Origin', { host: HOST, 'sec-fetch-site': 'cross-site', origin: `http://${HOST}` }, true],
    // Older browsers send only Origin.
    ['Origin matching Host', { host: HOST, origin: `http://${HOST}` }, false],
    ['Origin of another site', { host: HOST, origin: 'http://evil.example' }, true],
    ['Origin on another port', { host: HOST, origin: 'http://127.0.0.1:8081' }, true],
    ['Origin of another host on the same port', { host: HOST, origin: 'http://localhost:8080' }, true],
    ['Origin IPv6 matching Host', { host: '[::1]:8080', origin: 'http://[::1]:8080' }, false],
    ['Origin without a Host header', { origin: `http://${HOST}` }, true],
    ['malformed Origin', { host: HOST, origin: 'not a url' }, true],
    ['Origin null (sandboxed frame, data: URL)', { host: HOST, origin: 'null' }, true],
    ['empty Origin', { host: HOST, origin: '' }, true],
    // Scripts and curl send neither.
    ['no headers at all (curl)', {}, false],
    ['only Host (curl)', { host: HOST }, false],
  ];
  it.each(unsafe)('POST with %s', (_name, headers, expected) => {
    expect(isCrossSite('POST', headers)).toBe(expected);
  });

  it.each(['POST', 'PUT', 'PATCH', 'DELETE'])('%s is checked', (method) => {
    expect(isCrossSite(method, { host: HOST, origin: 'http://evil.example' })).toBe(true);
    expect(isCrossSite(method, { host: HOST, 'sec-fetch-site': 'cross-site' })).toBe(true);
    expect(isCrossSite(method, { host: HOST })).toBe(false);
  });
});
