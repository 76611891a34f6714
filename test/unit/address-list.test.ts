import { describe, expect, it } from 'vitest';
import { AddressList, normalizeIp } from '../../src/access/address-list.js';

describe('normalizeIp', () => {
  it.each([
    ['127.0.0.1', '127.0.0.1'],
    ['10.1.2.3', '10.1.2.3'],
    ['::1', '::1'],
    ['0:0:0:0:0:0:0:1', '::1'],
    ['2001:DB8::1', '2001:db8::1'],
    ['2001:0db8:0000:0000:0000:0000:0000:0001', '2001:db8::1'],
    // IPv4-mapped IPv6, as a dual-stack socket reports IPv4 peers: always plain IPv4.
    ['::ffff:10.1.2.3', '10.1.2.3'],
    ['::FFFF:127.0.0.1', '127.0.0.1'],
    ['::ffff:7f00:1', '127.0.0.1'],
    // Brackets, as in URLs and forwarding headers.
    ['[::1]', '::1'],
    ['[2001:db8::1]', '2001:db8::1'],
    ['[::ffff:10.1.2.3]', '10.1.2.3'],
    // Zone ids name an interface, not a different host.
    ['fe80::1%eth0', 'fe80::1'],
    ['fe80::1%25eth0', 'fe80::1'],
    ['[fe80::1%eth0]', 'fe80::1'],
  ])('%s → %s', (input, expected) => {
    expect(normalizeIp(input)).toBe(expected);
  });

  it.each([
    '',
    ' ',
    'not-an-ip',
    'unknown',
    '_hidden',
    'localhost',
    '1.2.3.4.5',
    '256.1.1.1',
    '1.2.3.-1',
    '1.2.3.4/8',
    '::1/128',
    ' 1.2.3.4',
    '1.2.3.4 ',
    '1.2.3.4:80',
    '[::1]:443',
    '[::1',
    '::1]',
    '2001:db8::1::2',
    ':::1',
    '%eth0',
    'gggg::1',
  ])('%j is not an address', (input) => {
    expect(normalizeIp(input)).toBeUndefined();
  });

  // RFC 7239 and RFC 7230 take IPv4 addresses as dotted quads of decimal octets without
  // leading zeros. Shorthand, whole-number, hex and octal forms are not addresses there,
  // and reading `010.0.0.1` as 8.0.0.1 disagrees with every proxy and log that shows it.
  it('non-canonical IPv4 forms (shorthand, whole number, hex, octal) are not addresses', () => {
    const inputs = ['127.1', '10.1', '2130706433', '0x7f000001', '0x7f.0.0.1', '010.0.0.1', '127.000.000.001'];
    const parsed = Object.fromEntries(inputs.map((input) => [input, normalizeIp(input)]));
    expect(parsed).toEqual(Object.fromEntries(inputs.map((input) => [input, undefined])));
  });
});

describe('AddressList', () => {
  it('an empty list admits nobody', () => {
    const list = new AddressList([]);
    for (const ip of ['127.0.0.1', '::1', '::ffff:127.0.0.1', '0.0.0.0', '::', '10.0.0.1']) {
      expect(list.contains(ip), ip).toBe(false);
    }
  });

  it('undefined and invalid input are never contained, whatever the list', () => {
    const list = new AddressList(['0.0.0.0/0', '::/0']);
    for (const ip of [undefined, '', 'unknown', 'not-an-ip', '1.2.3.4:80', '1.2.3.4/32', '999.0.0.1']) {
      expect(list.contains(ip), String(ip)).toBe(false);
    }
  });

  it('single IPv4 addresses match only themselves', () => {
    const list = new AddressList(['127.0.0.2', '10.9.8.7']);
    expect(list.contains('127.0.0.2')).toBe(true);
    expect(list.contains('10.9.8.7')).toBe(true);
    expect(list.contains('127.0.0.1')).toBe(false);
    expect(list.contains('127.0.0.3')).toBe(false);
    expect(list.contains('10.9.8.8')).toBe(false);
  });

  it('single IPv6 addresses match however they are written', () => {
    const list = new AddressList(['::1', '2001:db8::1']);
    expect(list.contains('::1')).toBe(true);
    expect(list.contains('0:0:0:0:0:0:0:1')).toBe(true);
    expect(list.contains('[::1]')).toBe(true);
    expect(list.contains('2001:DB8:0::1')).toBe(true);
    expect(list.contains('2001:db8::2')).toBe(false);
    expect(list.contains('::2')).toBe(false);
  });

  it('IPv4 CIDR ranges include their bounds and nothing past them', () => {
    const list = new AddressList(['127.0.0.0/30', '10.0.0.0/8']);
    for (const ip of ['127.0.0.0', '127.0.0.1', '127.0.0.2', '127.0.0.3', '10.0.0.0', '10.255.255.255', '10.1.2.3']) {
      expect(list.contains(ip), ip).toBe(true);
    }
    for (const ip of ['127.0.0.4', '126.255.255.255', '11.0.0.0', '9.255.255.255']) {
      expect(list.contains(ip), ip).toBe(false);
    }
  });

  it('IPv6 CIDR ranges include their bounds and nothing past them', () => {
    const list = new AddressList(['fd00::/8', '2001:db8:1::/48']);
    for (const ip of ['fd00::1', 'fdff:ffff:ffff:ffff:ffff:ffff:ffff:ffff', '2001:db8:1::', '2001:db8:1:ffff::1']) {
      expect(list.contains(ip), ip).toBe(true);
    }
    for (const ip of ['fe00::1', 'fc00::1', '2001:db8:2::1', '2001:db8::1', '::1']) {
      expect(list.contains(ip), ip).toBe(false);
    }
  });

  it('an IPv4-mapped IPv6 peer matches the IPv4 address and ranges it stands for', () => {
    const list = new AddressList(['10.1.2.3']);
    expect(list.contains('::ffff:10.1.2.3')).toBe(true);
    expect(list.contains('::ffff:a01:203')).toBe(true);
    expect(list.contains('::ffff:10.1.2.4')).toBe(false);

    const range = new AddressList(['10.0.0.0/8']);
    expect(range.contains('::ffff:10.1.2.3')).toBe(true);
    expect(range.contains('::ffff:11.1.2.3')).toBe(false);
  });

  it('a mapped address or range in the config stands for its IPv4 address or range', () => {
    const single = new AddressList(['::ffff:127.0.0.1']);
    expect(single.contains('127.0.0.1')).toBe(true);
    expect(single.contains('::ffff:127.0.0.1')).toBe(true);
    expect(single.contains('127.0.0.2')).toBe(false);

    const range = new AddressList(['::ffff:10.0.0.0/104']);
    expect(range.contains('10.1.2.3')).toBe(true);
    expect(range.contains('::ffff:10.200.0.1')).toBe(true);
    expect(range.contains('11.0.0.1')).toBe(false);
    expect(range.contains('::1')).toBe(false);
  });

  it('0.0.0.0/0 admits every IPv4 client (mapped too) and no IPv6 client', () => {
    const list = new AddressList(['0.0.0.0/0']);
    expect(list.contains('1.2.3.4')).toBe(true);
    expect(list.contains('::ffff:1.2.3.4')).toBe(true);
    for (const ip of ['::1', '2001:db8::1', 'fe80::1', '::']) expect(list.contains(ip), ip).toBe(false);
  });

  it('::/0 admits every IPv6 client and no IPv4 client, mapped or not', () => {
    const list = new AddressList(['::/0']);
    expect(list.contains('::1')).toBe(true);
    expect(list.contains('2001:db8::1')).toBe(true);
    for (const ip of ['127.0.0.1', '10.1.2.3', '::ffff:127.0.0.1', '0.0.0.0']) expect(list.contains(ip), ip).toBe(false);
  });

  it('127.0.0.1 does not admit ::1 and ::1 does not admit 127.0.0.1', () => {
    expect(new AddressList(['127.0.0.1']).contains('::1')).toBe(false);
    expect(new AddressList(['::1']).contains('127.0.0.1')).toBe(false);
    expect(new AddressList(['::1']).contains('::ffff:127.0.0.1')).toBe(false);
  });

  it('zone ids on the client address are ignored', () => {
    const list = new AddressList(['fe80::/10']);
    expect(list.contains('fe80::1%eth0')).toBe(true);
    expect(list.contains('[fe80::1%lo]')).toBe(true);
    expect(new AddressList(['fe80::1']).contains('fe80::1%eth0')).toBe(true);
    expect(new AddressList(['fe80::1']).contains('fe80::2%eth0')).toBe(false);
  });

  it('bracketed IPv6 clients are matched like bare ones', () => {
    const list = new AddressList(['2001:db8::/32']);
    expect(list.contains('[2001:db8::1]')).toBe(true);
    expect(list.contains('[2001:db9::1]')).toBe(false);
  });

  it('keeps its entries as written', () => {
    expect(new AddressList(['127.0.0.1', '::1']).entries).toEqual(['127.0.0.1', '::1']);
  });
});
