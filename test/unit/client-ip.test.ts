import type { IncomingHttpHeaders } from 'node:http';
import { describe, expect, it } from 'vitest';
import { AddressList } from '../../src/access/address-list.js';
import { resolveClientIp, type ProxyHeader } from '../../src/access/client-ip.js';

interface Case {
  name: string;
  peer: string | undefined;
  headers?: IncomingHttpHeaders;
  proxies?: string[];
  header?: ProxyHeader;
  expected: string | undefined;
}

const PROXY = '10.0.0.1';

function clientIp(peer: string | undefined, headers: IncomingHttpHeaders = {}, proxies = [PROXY], header: ProxyHeader = 'x-forwarded-for'): string | undefined {
  return resolveClientIp(peer, headers, new AddressList(proxies), header);
}

function resolve({ peer, headers, proxies, header }: Case): string | undefined {
  return clientIp(peer, headers, proxies, header);
}

describe('resolveClientIp: the peer is the client unless it is a trusted proxy', () => {
  const cases: Case[] = [
    { name: 'no peer', peer: undefined, expected: undefined },
    { name: 'garbage peer', peer: 'not-an-ip', expected: undefined },
    { name: 'plain IPv4 peer', peer: '127.0.0.1', expected: '127.0.0.1' },
    { name: 'IPv6 peer', peer: '::1', expected: '::1' },
    { name: 'IPv4-mapped peer is reported as IPv4', peer: '::ffff:127.0.0.2', expected: '127.0.0.2' },
    { name: 'untrusted peer: X-Forwarded-For ignored', peer: '127.0.0.2', headers: { 'x-forwarded-for': '127.0.0.1' }, expected: '127.0.0.2' },
    {
      name: 'untrusted peer: X-Forwarded-For garbage ignored, not turned into undefined',
      peer: '127.0.0.2',
      headers: { 'x-forwarded-for': 'unknown, not-an-ip' },
      expected: '127.0.0.2',
    },
    {
      name: 'untrusted peer: Forwarded ignored',
      peer: '127.0.0.2',
      headers: { forwarded: 'for=127.0.0.1' },
      header: 'forwarded',
      expected: '127.0.0.2',
    },
    {
      name: 'untrusted peer: malformed Forwarded ignored',
      peer: '127.0.0.2',
      headers: { forwarded: 'for=' },
      header: 'forwarded',
      expected: '127.0.0.2',
    },
    {
      name: 'untrusted peer with both headers',
      peer: '::ffff:127.0.0.2',
      headers: { 'x-forwarded-for': '10.9.8.7', forwarded: 'for=10.9.8.7' },
      expected: '127.0.0.2',
    },
    { name: 'no proxies configured: headers never count', peer: PROXY, proxies: [], headers: { 'x-forwarded-for': '10.9.8.7' }, expected: PROXY },
    { name: 'a proxy in a range but this peer outside it', peer: '10.1.0.1', proxies: ['10.0.0.0/16'], headers: { 'x-forwarded-for': '10.9.8.7' }, expected: '10.1.0.1' },
  ];
  it.each(cases)('$name', (c) => {
    expect(resolve(c)).toBe(c.expected);
  });
});

describe('resolveClientIp: X-Forwarded-For from a trusted proxy', () => {
  const cases: Case[] = [
    { name: 'no header: the proxy itself is the client', peer: PROXY, expected: PROXY },
    { name: 'one hop', peer: PROXY, headers: { 'x-forwarded-for': '10.9.8.7' }, expected: '10.9.8.7' },
    { name: 'whitespace around hops', peer: PROXY, headers: { 'x-forwarded-for': '  6.6.6.6 ,\t10.9.8.7  ' }, expected: '10.9.8.7' },
    {
      name: 'client-supplied left part is not believed: the rightmost untrusted hop is the client',
      peer: PROXY,
      headers: { 'x-forwarded-for': '10.9.8.7, 6.6.6.6' },
      expected: '6.6.6.6',
    },
    { name: 'a spoofed trusted-looking left part is not believed', peer: PROXY, headers: { 'x-forwarded-for': '127.0.0.1, 6.6.6.6' }, expected: '6.6.6.6' },
    {
      name: 'several proxies: walk right to left past every trusted one',
      peer: PROXY,
      proxies: [PROXY, '10.0.0.2', '10.0.0.3'],
      headers: { 'x-forwarded-for': '1.1.1.1, 10.9.8.7, 10.0.0.3, 10.0.0.2' },
      expected: '10.9.8.7',
    },
    {
      name: 'several proxies given as a range',
      peer: '192.168.1.10',
      proxies: ['192.168.1.0/24'],
      headers: { 'x-forwarded-for': '203.0.113.9, 192.168.1.20, 192.168.1.30' },
      expected: '203.0.113.9',
    },
    {
      name: 'an untrusted hop between trusted ones stops the walk',
      peer: PROXY,
      proxies: [PROXY, '10.0.0.2'],
      headers: { 'x-forwarded-for': '10.9.8.7, 10.0.0.2, 6.6.6.6, 10.0.0.2' },
      expected: '6.6.6.6',
    },
    {
      name: 'all hops trusted: the leftmost',
      peer: PROXY,
      proxies: [PROXY, '10.0.0.2', '10.0.0.3'],
      headers: { 'x-forwarded-for': '10.0.0.3, 10.0.0.2' },
      expected: '10.0.0.3',
    },
    { name: 'IPv4 hop with a port', peer: PROXY, headers: { 'x-forwarded-for': '1.2.3.4:5678' }, expected: '1.2.3.4' },
    { name: 'bracketed IPv6 hop with a port', peer: PROXY, headers: { 'x-forwarded-for': '[2001:db8::1]:443' }, expected: '2001:db8::1' },
    { name: 'bracketed IPv6 hop without a port', peer: PROXY, headers: { 'x-forwarded-for': '[2001:db8::1]' }, expected: '2001:db8::1' },
    { name: 'bare IPv6 hop', peer: PROXY, headers: { 'x-forwarded-for': '2001:db8::1' }, expected: '2001:db8::1' },
    { name: 'IPv4-mapped hop is reported as IPv4', peer: PROXY, headers: { 'x-forwarded-for': '::ffff:10.9.8.7' }, expected: '10.9.8.7' },
    { name: 'hop with a zone id', peer: PROXY, headers: { 'x-forwarded-for': 'fe80::1%eth0' }, expected: 'fe80::1' },
    { name: 'garbage hop: unknown', peer: PROXY, headers: { 'x-forwarded-for': 'unknown' }, expected: undefined },
    { name: 'garbage hop: _hidden', peer: PROXY, headers: { 'x-forwarded-for': '_hidden' }, expected: undefined },
    { name: 'garbage hop: not-an-ip', peer: PROXY, headers: { 'x-forwarded-for': 'not-an-ip' }, expected: undefined },
    { name: 'garbage hop: empty header', peer: PROXY, headers: { 'x-forwarded-for': '' }, expected: undefined },
    { name: 'garbage hop: empty entry on the right', peer: PROXY, headers: { 'x-forwarded-for': '10.9.8.7, ' }, expected: undefined },
    { name: 'garbage hop: empty entry in the middle', peer: PROXY, headers: { 'x-forwarded-for': '10.9.8.7,,' + PROXY }, expected: undefined },
    { name: 'garbage hop: unclosed bracket', peer: PROXY, headers: { 'x-forwarded-for': '[2001:db8::1' }, expected: undefined },
    { name: 'garbage hop: out-of-range octet', peer: PROXY, headers: { 'x-forwarded-for': '10.9.8.256' }, expected: undefined },
    {
      name: 'garbage hop behind a trusted hop',
      peer: PROXY,
      proxies: [PROXY, '10.0.0.2'],
      headers: { 'x-forwarded-for': 'unknown, 10.0.0.2' },
      expected: undefined,
    },
    {
      name: 'garbage to the left of the client is never reached',
      peer: PROXY,
      headers: { 'x-forwarded-for': 'unknown, 10.9.8.7' },
      expected: '10.9.8.7',
    },
    {
      name: 'repeated headers (array): one chain, in order',
      peer: PROXY,
      headers: { 'x-forwarded-for': ['6.6.6.6', '10.9.8.7'] as unknown as string },
      expected: '10.9.8.7',
    },
    {
      name: 'repeated headers (array) through several proxies',
      peer: PROXY,
      proxies: [PROXY, '10.0.0.2'],
      headers: { 'x-forwarded-for': ['1.1.1.1, 10.9.8.7', '10.0.0.2'] as unknown as string },
      expected: '10.9.8.7',
    },
    {
      name: 'proxyHeader x-forwarded-for ignores Forwarded',
      peer: PROXY,
      headers: { forwarded: 'for=10.9.8.7' },
      expected: PROXY,
    },
    {
      name: 'proxyHeader x-forwarded-for ignores a spoofed Forwarded next to the real header',
      peer: PROXY,
      headers: { 'x-forwarded-for': '6.6.6.6', forwarded: 'for=10.9.8.7' },
      expected: '6.6.6.6',
    },
  ];
  it.each(cases)('$name', (c) => {
    expect(resolve(c)).toBe(c.expected);
  });
});

describe('resolveClientIp: Forwarded (RFC 7239) from a trusted proxy', () => {
  const cases: Case[] = [
    { name: 'no header: the proxy itself is the client', peer: PROXY, expected: PROXY },
    { name: 'one element', peer: PROXY, headers: { forwarded: 'for=10.9.8.7' }, expected: '10.9.8.7' },
    { name: 'parameter names are case-insensitive', peer: PROXY, headers: { forwarded: 'For=10.9.8.7' }, expected: '10.9.8.7' },
    { name: 'with other parameters', peer: PROXY, headers: { forwarded: 'for=10.9.8.7;proto=https;by=10.0.0.1' }, expected: '10.9.8.7' },
    { name: 'quoted IPv4 with a port', peer: PROXY, headers: { forwarded: 'for="1.2.3.4:5678"' }, expected: '1.2.3.4' },
    { name: 'quoted bracketed IPv6 with a port', peer: PROXY, headers: { forwarded: 'for="[2001:db8::1]:443"' }, expected: '2001:db8::1' },
    { name: 'quoted bracketed IPv6', peer: PROXY, headers: { forwarded: 'for="[2001:db8::1]"' }, expected: '2001:db8::1' },
    { name: 'client-supplied left element is not believed', peer: PROXY, headers: { forwarded: 'for=10.9.8.7, for=6.6.6.6' }, expected: '6.6.6.6' },
    {
      name: 'several proxies',
      peer: PROXY,
      proxies: [PROXY, '10.0.0.2'],
      headers: { forwarded: 'for=1.1.1.1, for=10.9.8.7, for=10.0.0.2' },
      expected: '10.9.8.7',
    },
    { name: 'all hops trusted: the leftmost', peer: PROXY, proxies: [PROXY, '10.0.0.2'], headers: { forwarded: 'for=10.0.0.2, for=10.0.0.1' }, expected: '10.0.0.2' },
    { name: 'obfuscated identifier _hidden', peer: PROXY, headers: { forwarded: 'for=_hidden' }, expected: undefined },
    { name: 'unknown', peer: PROXY, headers: { forwarded: 'for=unknown' }, expected: undefined },
    { name: 'element without for=', peer: PROXY, headers: { forwarded: 'proto=https' }, expected: undefined },
    { name: 'malformed: empty for=', peer: PROXY, headers: { forwarded: 'for=' }, expected: undefined },
    { name: 'malformed: no parameter', peer: PROXY, headers: { forwarded: 'garbage' }, expected: undefined },
    { name: 'malformed: unterminated quote', peer: PROXY, headers: { forwarded: 'for="10.9.8.7' }, expected: undefined },
    { name: 'malformed: empty header', peer: PROXY, headers: { forwarded: '' }, expected: undefined },
    { name: 'proxyHeader forwarded ignores a spoofed X-Forwarded-For', peer: PROXY, headers: { 'x-forwarded-for': '10.9.8.7' }, expected: PROXY },
    {
      name: 'proxyHeader forwarded ignores X-Forwarded-For next to the real header',
      peer: PROXY,
      headers: { forwarded: 'for=6.6.6.6', 'x-forwarded-for': '10.9.8.7' },
      expected: '6.6.6.6',
    },
  ];
  it.each(cases)('$name', (c) => {
    expect(resolve({ header: 'forwarded', ...c })).toBe(c.expected);
  });
});

describe('resolveClientIp: IPv4-mapped peers and proxies', () => {
  it('a mapped peer matches a trusted proxy written as IPv4', () => {
    expect(clientIp('::ffff:10.0.0.1', { 'x-forwarded-for': '10.9.8.7' })).toBe('10.9.8.7');
  });

  it('a plain IPv4 peer matches a trusted proxy written as mapped IPv6', () => {
    expect(clientIp('10.0.0.1', { 'x-forwarded-for': '10.9.8.7' }, ['::ffff:10.0.0.1'])).toBe('10.9.8.7');
  });

  it('a mapped peer matches a trusted IPv4 range, and mapped hops are trusted proxies too', () => {
    expect(clientIp('::ffff:10.0.0.1', { 'x-forwarded-for': '203.0.113.9, ::ffff:10.0.0.7' }, ['10.0.0.0/24'])).toBe('203.0.113.9');
  });

  it('a mapped peer is not a trusted proxy just because ::/0 is listed', () => {
    expect(clientIp('::ffff:10.0.0.1', { 'x-forwarded-for': '10.9.8.7' }, ['::/0'])).toBe('10.0.0.1');
  });

  it('a mapped peer that is not a trusted proxy has its headers ignored', () => {
    expect(clientIp('::ffff:127.0.0.2', { 'x-forwarded-for': '10.9.8.7' }, ['127.0.0.1'])).toBe('127.0.0.2');
  });

  it('an IPv6 proxy forwards for an IPv4 client', () => {
    expect(clientIp('::1', { 'x-forwarded-for': '10.9.8.7' }, ['::1'])).toBe('10.9.8.7');
  });
});
