import { isIP } from 'node:net';
import ipaddr from 'ipaddr.js';

type Range = [ipaddr.IPv4 | ipaddr.IPv6, number];

/**
 * The canonical form of an address, with IPv4-mapped IPv6 (`::ffff:10.1.2.3`) turned
 * into plain IPv4 so one rule matches however the peer arrived. Undefined when invalid.
 */
export function normalizeIp(text: string): string | undefined {
  const bare = text.startsWith('[') && text.endsWith(']') ? text.slice(1, -1) : text;
  // Zone ids (fe80::1%eth0) name an interface, not a different host.
  const withoutZone = bare.includes('%') ? bare.slice(0, bare.indexOf('%')) : bare;
  // net.isIP accepts only the plain forms: no 127.1, 0x7f.0.0.1 or octal 010.0.0.1, which ipaddr.js would.
  if (isIP(withoutZone) === 0) return undefined;
  return ipaddr.process(withoutZone).toString();
}

/** An address or CIDR range in the plain notation that isIP accepts. */
export function isAddressOrRange(text: string): boolean {
  const [base, bits, ...rest] = text.split('/');
  if (rest.length > 0 || base === undefined || isIP(base) === 0) return false;
  if (bits === undefined) return true;
  if (!/^\d{1,3}$/.test(bits)) return false;
  return Number(bits) <= (isIP(base) === 4 ? 32 : 128);
}

/** A list of addresses and CIDR ranges, IPv4 and IPv6. An empty list contains nobody. */
export class AddressList {
  private readonly ranges: Range[];

  constructor(readonly entries: readonly string[]) {
    this.ranges = entries.map(toRange);
  }

  contains(ip: string | undefined): boolean {
    if (ip === undefined) return false;
    const normalized = normalizeIp(ip);
    if (normalized === undefined) return false;
    const addr = ipaddr.parse(normalized);
    return this.ranges.some(([base, bits]) => base.kind() === addr.kind() && addr.match([base, bits] as never));
  }
}

function toRange(entry: string): Range {
  if (entry.includes('/')) {
    const [base, bits] = ipaddr.parseCIDR(entry);
    // A mapped range (::ffff:10.0.0.0/104) is the IPv4 range it stands for.
    if (base.kind() === 'ipv6' && (base as ipaddr.IPv6).isIPv4MappedAddress() && bits >= 96) {
      return [(base as ipaddr.IPv6).toIPv4Address(), bits - 96];
    }
    return [base, bits];
  }
  const addr = ipaddr.process(entry);
  return [addr, addr.kind() === 'ipv4' ? 32 : 128];
}
