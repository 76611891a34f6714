import { execFileSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import path from 'node:path';
import tls from 'node:tls';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/config/issues.js';
import { configFrom, tempDir, writeConfig } from '../helpers/config.js';
import { startServeProcess, type ServeProcess } from '../helpers/serve-process.js';
import { request, startServer } from '../helpers/server.js';

const json = (res: { body: string }) => JSON.parse(res.body) as { stdout?: string };

/** A fresh self-signed certificate and key for localhost, written as `<name>.crt` and `<name>.key`. */
function selfSigned(dir: string, name: string): { cert: string; key: string; fingerprint: string } {
  const cert = path.join(dir, `${name}.crt`);
  const key = path.join(dir, `${name}.key`);
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=localhost', '-days', '1', '-keyout', key, '-out', cert], { stdio: 'ignore' });
  return { cert, key, fingerprint: new X509Certificate(readFileSync(cert)).fingerprint256 };
}

/** The certificate a new TLS connection is shown. */
function peerFingerprint(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = tls.connect({ host: '127.0.0.1', port, servername: 'localhost', rejectUnauthorized: false }, () => {
      resolve(socket.getPeerCertificate().fingerprint256);
      socket.end();
    });
    socket.on('error', reject);
  });
}

function httpsGet(port: number, url: string): Promise<{ status: number; headers: Record<string, unknown>; body: string }> {
  return new Promise((resolve, reject) => {
    https
      .get({ host: '127.0.0.1', port, path: url, rejectUnauthorized: false, agent: false }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (body += chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      })
      .on('error', reject);
  });
}

const CONFIG = `listen: 127.0.0.1:0
tls: { cert: server.crt, key: server.key }
actions:
  hello: { command: [echo, hi], safe: true }
`;

describe('TLS', () => {
  let p: ServeProcess | undefined;
  afterAll(async () => {
    p?.server.kill('SIGTERM');
    await p?.exited;
  });

  it('serves HTTPS with HSTS, and a new certificate after SIGHUP', async () => {
    const dir = tempDir();
    const first = selfSigned(dir, 'server');
    p = await startServeProcess(writeConfig(CONFIG, dir), dir);

    const res = await httpsGet(p.port, '/api/actions/hello/result');
    expect(res.status).toBe(200);
    expect(json(res).stdout).toBe('hi\n');
    expect(res.headers['strict-transport-security']).toBe('max-age=31536000; includeSubDomains');
    expect(await peerFingerprint(p.port)).toBe(first.fingerprint);

    // Renewed the way certbot and friends do it: new files moved into place.
    const second = selfSigned(dir, 'renewed');
    renameSync(second.cert, first.cert);
    renameSync(second.key, first.key);
    expect(second.fingerprint).not.toBe(first.fingerprint);
    p.server.kill('SIGHUP');
    const deadline = Date.now() + 4000;
    while ((await peerFingerprint(p.port)) !== second.fingerprint && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100));
    expect(await peerFingerprint(p.port)).toBe(second.fingerprint);
    expect((await httpsGet(p.port, '/healthz')).status).toBe(200);
  });

  it('sends no HSTS over plain HTTP', async () => {
    const s = await startServer('actions:\n  hello: { command: [echo, hi], safe: true }\n');
    try {
      const res = await request(s.port, '/healthz');
      expect(res.status).toBe(200);
      expect(res.headers['strict-transport-security']).toBeUndefined();
    } finally {
      await s.close();
    }
  });

  it('refuses at load a missing file, a file that is not PEM, and a certificate and key that do not belong together', () => {
    const dir = tempDir();
    const a = selfSigned(dir, 'a');
    const b = selfSigned(dir, 'b');
    writeFileSync(path.join(dir, 'garbage.crt'), 'not a certificate\n');
    const problems = (cert: string, key: string): string => {
      try {
        configFrom(`tls: { cert: ${cert}, key: ${key} }\nactions:\n  hello: { command: [echo] }\n`, { dir });
      } catch (error) {
        expect(error).toBeInstanceOf(ConfigError);
        return (error as ConfigError).message;
      }
      throw new Error('the config loaded');
    };
    expect(problems('missing.crt', path.basename(a.key))).toMatch(/porthole\.yaml:1:\d+: error: tls\.cert: cannot read .*missing\.crt \(ENOENT\)/);
    expect(problems('garbage.crt', path.basename(a.key))).toMatch(/tls\.cert: .*garbage\.crt is not a PEM certificate/);
    expect(problems(path.basename(a.cert), path.basename(a.cert))).toMatch(/tls\.key: .* is not an unencrypted PEM private key/);
    expect(problems(path.basename(a.cert), path.basename(b.key))).toMatch(/tls: the certificate .* cannot be used together: .*key values mismatch/);
    expect(configFrom(`tls: { cert: a.crt, key: a.key }\nactions:\n  hello: { command: [echo] }\n`, { dir }).tls).toEqual({ cert: a.cert, key: a.key });
  });
});
