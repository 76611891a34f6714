import { describe, expect, it } from 'vitest';
import {
  binaryCell,
  decimalCell,
  genericCell,
  integerCell,
  localDateTimeCell,
  pgByteaCell,
  utcTimestampCell,
} from '../../src/datasources/cells.js';

describe('integerCell', () => {
  it.each([
    ['42', 42],
    ['-7', -7],
    ['9007199254740991', 9007199254740991],
    ['9007199254740992', '9007199254740992'],
    ['-9223372036854775808', '-9223372036854775808'],
    [12, 12],
    [2n ** 63n - 1n, '9223372036854775807'],
    [5n, 5],
  ] as const)('%s → %j', (input, expected) => {
    expect(integerCell(input)).toBe(expected);
  });
});

describe('decimalCell', () => {
  it.each([
    ['1.50', 1.5],
    ['-0.001', -0.001],
    ['0', 0],
    ['123456789012345', 123456789012345],
    ['1234567890.12345', 1234567890.12345],
    ['1234567890123456', '1234567890123456'],
    ['0.1234567890123456', '0.1234567890123456'],
    ['12345678901234.500000', 12345678901234.5],
    ['123456789012345678.5', '123456789012345678.5'],
    ['NaN', 'NaN'],
    ['Infinity', 'Infinity'],
  ] as const)('%s → %j', (input, expected) => {
    expect(decimalCell(input)).toBe(expected);
  });
});

describe('temporal cells', () => {
  it('local date-times get a T and keep their fraction', () => {
    expect(localDateTimeCell('2024-01-02 03:04:05')).toBe('2024-01-02T03:04:05');
    expect(localDateTimeCell('2024-01-02 03:04:05.123456')).toBe('2024-01-02T03:04:05.123456');
    expect(localDateTimeCell('infinity')).toBe('infinity');
  });

  it.each([
    ['2024-01-02 03:04:05', '2024-01-02T03:04:05Z'],
    ['2024-01-02 03:04:05.5+00', '2024-01-02T03:04:05.5Z'],
    ['2024-01-02 01:04:05.123456+02', '2024-01-01T23:04:05.123456Z'],
    ['2024-01-02 23:30:00-05:30', '2024-01-03T05:00:00Z'],
    ['0044-03-15 12:00:00+00', '0044-03-15T12:00:00Z'],
    ['infinity', 'infinity'],
  ])('%s → %s', (input, expected) => {
    expect(utcTimestampCell(input)).toBe(expected);
  });
});

describe('binary and other cells', () => {
  it('binary is base64', () => {
    expect(binaryCell(Buffer.from([0, 1, 255]))).toBe('AAH/');
    expect(binaryCell(new Uint8Array([104, 105]))).toBe('aGk=');
    expect(pgByteaCell('\\x0001ff')).toBe('AAH/');
  });

  it('genericCell reduces anything to a cell', () => {
    expect(genericCell(undefined)).toBeNull();
    expect(genericCell(true)).toBe(true);
    expect(genericCell(Number.NaN)).toBe('NaN');
    expect(genericCell(10n ** 20n)).toBe('100000000000000000000');
    expect(genericCell(new Date(Date.UTC(2024, 0, 2)))).toBe('2024-01-02T00:00:00.000Z');
    expect(genericCell({ a: 1 })).toBe('{"a":1}');
  });
});
