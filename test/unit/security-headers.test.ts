import { describe, expect, it } from 'vitest';
import { securityHeaders } from '../../src/http/security-headers.js';

describe('securityHeaders', () => {
  it('allows only our own scripts, styles and connections, and no framing', () => {
    const headers = securityHeaders({ hsts: false });
    expect(headers['content-security-policy']).toBe(
      "default-src 'none';script-src 'self';style-src 'self';img-src 'self' data:;connect-src 'self';form-action 'self';frame-ancestors 'none';base-uri 'none'",
    );
    expect(headers['x-frame-options']).toBe('DENY');
    expect(headers['referrer-policy']).toBe('same-origin');
    expect(headers['x-content-type-options']).toBe('nosniff');
  });

  it('sends Strict-Transport-Security only when asked to', () => {
    expect(securityHeaders({ hsts: false })['strict-transport-security']).toBeUndefined();
    expect(securityHeaders({ hsts: true })['strict-transport-security']).toBe('max-age=31536000; includeSubDomains');
  });

  it('cannot be changed after it is worked out', () => {
    expect(Object.isFrozen(securityHeaders({ hsts: false }))).toBe(true);
  });
});
