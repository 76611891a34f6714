import { describe, expect, it } from 'vitest';
import { PortholeError } from '../../src/core/errors.js';
import { bindValues, placeholderNames, translatePlaceholders } from '../../src/datasources/placeholders.js';
import type { Dialect } from '../../src/datasources/placeholders.js';

type Case = [title: string, sql: string, expected: string, names: string[]];

function check(dialect: Dialect, cases: Case[]) {
  it.each(cases)('%s', (_title, sql, expected, names) => {
    expect(translatePlaceholders(sql, dialect)).toEqual({ sql: expected, names });
  });
}

describe('translatePlaceholders: mysql', () => {
  check('mysql', [
    ['no placeholders', 'SELECT 1', 'SELECT 1', []],
    ['one', 'SELECT * FROM t WHERE id = :id', 'SELECT * FROM t WHERE id = ?', ['id']],
    ['repeated name appears twice', 'SELECT :a, :b, :a', 'SELECT ?, ?, ?', ['a', 'b', 'a']],
    ['adjacent punctuation', 'IN(:a,:b)', 'IN(?,?)', ['a', 'b']],
    ['at end of text', 'LIMIT :n', 'LIMIT ?', ['n']],
    ['underscore and digits', 'WHERE x = :_p1_x', 'WHERE x = ?', ['_p1_x']],
    ['single-quoted string', "SELECT ':a', :b", "SELECT ':a', ?", ['b']],
    ['doubled quote escape', "SELECT 'it''s :a', :b", "SELECT 'it''s :a', ?", ['b']],
    ['backslash escape', "SELECT 'it\\' :a', :b", "SELECT 'it\\' :a', ?", ['b']],
    ['double-quoted string', 'SELECT ":a\\" :x", :b', 'SELECT ":a\\" :x", ?', ['b']],
    ['backtick identifier', 'SELECT `:a``:c`, :b', 'SELECT `:a``:c`, ?', ['b']],
    ['-- comment', 'SELECT :a -- :b\n, :c', 'SELECT ? -- :b\n, ?', ['a', 'c']],
    ['--x is not a comment in mysql', 'SELECT 5--:a', 'SELECT 5--?', ['a']],
    ['# comment', 'SELECT :a # :b\n, :c', 'SELECT ? # :b\n, ?', ['a', 'c']],
    ['block comment', 'SELECT /* :a */ :b', 'SELECT /* :a */ ?', ['b']],
    ['assignment :=', 'SELECT @x := :v', 'SELECT @x := ?', ['v']],
    ['colon then digit', "SELECT TIME('10:30')", "SELECT TIME('10:30')", []],
    ['unterminated string', "SELECT ':a", "SELECT ':a", []],
    ['unicode in literal and around', "SELECT 'naïve :x', :ünï, '日本'", "SELECT 'naïve :x', ?, '日本'", ['ünï']],
    ['name glued to identifier is not a placeholder', 'SELECT a:b', 'SELECT a:b', []],
    ['$ is plain in mysql', 'SELECT $$ :a $$', 'SELECT $$ ? $$', ['a']],
  ]);
});

describe('translatePlaceholders: postgres', () => {
  check('postgres', [
    ['numbers by name', 'SELECT :a, :b, :a', 'SELECT $1, $2, $1', ['a', 'b']],
    ['cast', 'SELECT :a::int, x::text', 'SELECT $1::int, x::text', ['a']],
    ['cast of a name after a cast', 'SELECT :a::timestamptz::date', 'SELECT $1::timestamptz::date', ['a']],
    ['array slice', 'SELECT arr[1:2], arr[lo:hi], :x', 'SELECT arr[1:2], arr[lo:hi], $1', ['x']],
    ['dollar quote', 'SELECT $$ :a $$, :b', 'SELECT $$ :a $$, $1', ['b']],
    ['tagged dollar quote', 'SELECT $fn$ :a $$ :c $fn$, :b', 'SELECT $fn$ :a $$ :c $fn$, $1', ['b']],
    ['$1 is not a dollar quote', 'SELECT $1, :b', 'SELECT $1, $1', ['b']],
    ['$ inside identifier', 'SELECT a$b$ :c', 'SELECT a$b$ $1', ['c']],
    ['no backslash escape in plain strings', "SELECT 'a\\', :b", "SELECT 'a\\', $1", ['b']],
    ['E-string backslash escape', "SELECT E'it\\'s :a', :b", "SELECT E'it\\'s :a', $1", ['b']],
    ['double-quoted identifier', 'SELECT ":a""x", :b', 'SELECT ":a""x", $1', ['b']],
    ['backtick is not a quote', 'SELECT `:a`', 'SELECT `$1`', ['a']],
    ['-- comment', 'SELECT :a --:b\n', 'SELECT $1 --:b\n', ['a']],
    ['# is an operator', 'SELECT 1 # :a', 'SELECT 1 # $1', ['a']],
    ['nested block comment', 'SELECT /* x /* :a */ :b */ :c', 'SELECT /* x /* :a */ :b */ $1', ['c']],
    ['unterminated dollar quote', 'SELECT $$ :a', 'SELECT $$ :a', []],
    ['jsonb ? operator untouched', "SELECT j ? 'k', :a", "SELECT j ? 'k', $1", ['a']],
  ]);
});

describe('translatePlaceholders: sqlite', () => {
  check('sqlite', [
    ['repeated name appears twice', 'SELECT :a, :a', 'SELECT ?, ?', ['a', 'a']],
    ['no backslash escapes', "SELECT 'a\\', :b", "SELECT 'a\\', ?", ['b']],
    ['bracket identifier', 'SELECT [:a], :b', 'SELECT [:a], ?', ['b']],
    ['backtick identifier', 'SELECT `:a`, :b', 'SELECT `:a`, ?', ['b']],
    ['comments', 'SELECT :a -- :x\n/* :y */ , :b', 'SELECT ? -- :x\n/* :y */ , ?', ['a', 'b']],
  ]);
});

describe('placeholderNames', () => {
  it('lists distinct names in order of first use', () => {
    expect(placeholderNames("SELECT :b, :a, ':c', :b -- :d", 'mysql')).toEqual(['b', 'a']);
    expect(placeholderNames('SELECT $$:x$$, :y::int', 'postgres')).toEqual(['y']);
    expect(placeholderNames('SELECT 1', 'sqlite')).toEqual([]);
  });

  it('scans a large text in linear time', () => {
    const sql = `SELECT ${"'it''s', /* :x */ ".repeat(50_000)}${' :a'.repeat(10_000)}`;
    const start = performance.now();
    expect(placeholderNames(sql, 'mysql')).toEqual(['a']);
    expect(performance.now() - start).toBeLessThan(500);
  });
});

describe('bindValues', () => {
  it('maps names to values in placeholder order', () => {
    expect(bindValues(['a', 'b', 'a'], { a: 1, b: null })).toEqual([1, null, 1]);
  });

  it('treats a missing value as an internal error', () => {
    expect(() => bindValues(['a'], {})).toThrow(PortholeError);
    try {
      bindValues(['toString'], {});
    } catch (error) {
      expect((error as PortholeError).code).toBe('INTERNAL');
    }
  });
});
