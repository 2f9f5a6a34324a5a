import { execFileSync } from 'node:child_process';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { readFileSync, readdirSync } from 'node:fs';
import { createServer as createNetServer } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { english, phrase } from '../src/core/phrases.js';
import type { NotificationConfig } from '../src/core/types.js';
import { tlsProblem, webhookBody } from '../src/notify/channels.js';
import { emailAddressProblem, webhookUrlProblem } from '../src/notify/checks.js';
import { buildMessage, type NotifyEvent } from '../src/notify/message.js';
import { notify, notifyHint } from '../src/notify/notify.js';
import { describeResult, parseJsonOutput, runCli, waitFor } from './helpers/cli.js';
import { freePort } from './helpers/pg-cluster.js';
import { smtpAvailable, startSmtp, type SmtpServer } from './helpers/smtp.js';
import { demoSetup, makeTmpDir } from './helpers/tmp.js';
import { startCliInTmux } from './helpers/tty.js';

const at = new Date(2026, 10, 22, 2, 0, 0);
const partial: NotifyEvent = {
  kind: 'partial',
  operation: 'scheduled backup',
  host: 'srv1',
  at,
  setId: '20261122_020000',
  job: 'daily',
  databases: [
    { name: 'users', ok: true },
    { name: 'inventario', ok: false, error: 'connection refused', hint: 'Start PostgreSQL on db1:5432.' },
  ],
};

describe('notification messages (pure)', () => {
  it('a partial backup says which files were not stored, and why (the count alone left the operator guessing)', () => {
    const event: NotifyEvent = {
      kind: 'partial',
      operation: 'create',
      host: 'srv1',
      at: new Date('2026-11-22T02:00:00Z'),
      setId: '20261122_020000',
      databases: [{ name: 'users', ok: true }],
      fileProblems: 1,
      fileNotes: ['/srv/app/.env: not found'],
    };
    const lines = buildMessage(event, 'en').lines;
    expect(lines.slice(lines.indexOf('- 1 file(s) could not be stored'))).toEqual([
      '- 1 file(s) could not be stored',
      '  /srv/app/.env: not found',
    ]);
  });

  it('a failed drill names the databases that passed as passed, not "saved"', () => {
    const event: NotifyEvent = {
      kind: 'drill-failure',
      operation: 'drill',
      host: 'srv1',
      at: new Date('2026-11-22T02:00:00Z'),
      setId: '20261122_020000',
      databases: [
        { name: 'users', ok: false, error: 'row counts differ' },
        { name: 'inventario', ok: true },
      ],
    };
    expect(buildMessage(event, 'en').lines).toContain('- inventario: passed');
    expect(buildMessage(event, 'es').lines).toContain('- inventario: correcto');
    expect(buildMessage(event, 'es').lines).toContain('Operación: simulacro');
    expect(buildMessage({ ...event, operation: 'health check' }, 'es').lines).toContain(
      'Operación: comprobación de salud',
    );
  });

  it("es: a failure's error and hint are said by their phrases (English in en)", () => {
    const message = phrase('sqlite.locked', { db: 'users', by: '' });
    const hint = phrase('sqlite.lockedHint');
    const event: NotifyEvent = {
      kind: 'failure',
      operation: 'create',
      host: 'srv1',
      at,
      error: { message: english(message), hint: english(hint), phrases: { message, hint } },
    };
    expect(buildMessage(event, 'es').lines).toContain('Error: La base SQLite users está bloqueada por otro proceso.');
    expect(buildMessage(event, 'es').lines.join('\n')).toContain('Qué hacer: Inténtelo de nuevo');
    expect(buildMessage(event, 'en').lines).toContain(`Error: ${english(message)}`);
  });

  it.each([
    [
      'en',
      /srv1: backup partial/,
      [
        'Backup set: 20261122_020000',
        '- inventario: FAILED (connection refused)',
        '  What to do: Start PostgreSQL on db1:5432.',
        'Scheduled job: daily',
      ],
    ],
    [
      'es',
      /srv1: copia de seguridad parcial/,
      [
        'Conjunto: 20261122_020000',
        '- inventario: FALLÓ (connection refused)',
        '  Qué hacer: Start PostgreSQL on db1:5432.',
        'Tarea programada: daily',
      ],
    ],
  ] as const)(
    '%s: subject names the host, what happened and the set; lines name each database, the error and the hint',
    (lang, subject, lines) => {
      const m = buildMessage(partial, lang);
      expect(m.subject).toMatch(subject);
      expect(m.subject).toContain('20261122_020000');
      for (const l of lines) expect(m.lines).toContain(l);
      expect(m.severity).toBe('warning');
    },
  );

  it('a failure without a set carries its error and hint; severity error', () => {
    const m = buildMessage(
      { kind: 'failure', operation: 'create', host: 'h', at, error: { message: 'disk full', hint: 'Free space.' } },
      'en',
    );
    expect(m.lines).toEqual(expect.arrayContaining(['Error: disk full', 'What to do: Free space.']));
    expect(m.subject).toBe('[respaldo] h: backup FAILED');
    expect(m.severity).toBe('error');
  });

  it.each([
    ['slack', (b: Record<string, unknown>) => expect(b['text']).toMatch(/backup partial/)],
    ['teams', (b: Record<string, unknown>) => expect(b['@type']).toBe('MessageCard')],
    ['json', (b: Record<string, unknown>) => expect(b['severity']).toBe('warning')],
  ] as const)('webhook body in %s format', (format, check) => {
    check(webhookBody(format, buildMessage(partial, 'en')) as Record<string, unknown>);
  });
});

interface Received {
  body: unknown;
  raw: string;
  authorization?: string | undefined;
}

/** A local HTTP server that answers each POST with the next status of `statuses` (then 200). */
async function startWebhook(statuses: number[] = []): Promise<{ url: string; received: Received[]; server: Server }> {
  const received: Received[] = [];
  const port = await freePort();
  const server = createServer((req: IncomingMessage, res) => {
    let raw = '';
    req.on('data', (c: Buffer) => (raw += c.toString()));
    req.on('end', () => {
      received.push({ body: JSON.parse(raw) as unknown, raw, authorization: req.headers.authorization });
      res.statusCode = statuses.shift() ?? 200;
      res.end();
    });
  });
  await new Promise<void>((r) => server.listen(port, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${port}/hook/SECRET-TOKEN`, received, server };
}

describe('webhooks against a local HTTP server', () => {
  it('a URL with a login (a receiver behind basic auth) sends it as an Authorization header', async () => {
    const hook = await startWebhook();
    try {
      const url = hook.url.replace('http://', 'http://respaldo:S3cr%40t@');
      const channel: NotificationConfig = { type: 'webhook', name: 'ops', on: ['partial'], url, format: 'json' };
      const results = await notify(
        { notifications: [channel], language: 'en', backupDir: makeTmpDir(), secrets: [] },
        partial,
        { backoffMs: 5 },
      );
      expect(results).toEqual([{ channel: 'ops', type: 'webhook', ok: true, attempts: 1 }]);
      expect(hook.received[0]!.authorization).toBe(`Basic ${Buffer.from('respaldo:S3cr@t').toString('base64')}`);
    } finally {
      hook.server.close();
    }
  });

  it('retries with backoff and succeeds on the third attempt; the message reaches the server once', async () => {
    const hook = await startWebhook([500, 503]);
    try {
      const channel: NotificationConfig = {
        type: 'webhook',
        name: 'ops',
        on: ['partial'],
        url: hook.url,
        format: 'json',
      };
      const results = await notify(
        { notifications: [channel], language: 'en', backupDir: makeTmpDir(), secrets: [] },
        partial,
        { backoffMs: 5 },
      );
      expect(results).toEqual([{ channel: 'ops', type: 'webhook', ok: true, attempts: 3 }]);
      expect(hook.received).toHaveLength(3);
      expect((hook.received[2]!.body as { subject: string }).subject).toMatch(/backup partial/);
    } finally {
      hook.server.close();
    }
  });

  it('a channel that keeps failing is reported (masked), never thrown; channels not subscribed get nothing', async () => {
    const hook = await startWebhook([500, 500]);
    const dir = makeTmpDir();
    try {
      const failing: NotificationConfig = {
        type: 'webhook',
        on: ['partial'],
        url: `http://127.0.0.1:${await freePort()}/x`,
        format: 'slack',
      };
      const other: NotificationConfig = {
        type: 'webhook',
        name: 'only-failures',
        on: ['failure'],
        url: hook.url,
        format: 'json',
      };
      const results = await notify(
        { notifications: [failing, other], language: 'en', backupDir: dir, secrets: [] },
        partial,
        { attempts: 2, backoffMs: 5 },
      );
      expect(results).toHaveLength(1);
      expect(results[0]).toMatchObject({ channel: 'webhook#1', ok: false, attempts: 2 });
      expect(hook.received).toHaveLength(0);
      const log = readdirSync(join(dir, 'logs'))
        .map((f) => readFileSync(join(dir, 'logs', f), 'utf8'))
        .join('');
      expect(log).toMatch(/"event":"notify".*"outcome":"failed"/);
    } finally {
      hook.server.close();
    }
  });
});

describe('channel fields checked at config load, not on the day of an alert', () => {
  it.each([
    ['ops@@example', false],
    ['ops example.com', false],
    ['ops@exa mple.com', false],
    ['ops@example..com', false],
    ['ops@', false],
    ['ops', false],
    ['ops@example.com, dev@example.com', false],
    ['ops@example.com', true],
    ['a@b', true],
    ['first.last+tag@mail.example.co.uk', true],
    ['Ops Team <ops@example.com>', true],
    ['"Ops, Team" <ops@example.com>', true],
    ['José <jose@ejemplo.es>', true],
  ] as const)('email address %j: accepted %s', (address, ok) => {
    expect(emailAddressProblem(address) === undefined).toBe(ok);
  });

  it.each([
    ['https://hooks.example:99999/x', /port 99999, and a port is a number from 1 to 65535/],
    ['https://hooks.example:0/x', /port 0/],
    ['https://hooks.example:6667/x', /port 6667, which HTTP clients refuse/],
    ['ftp://x', /must be an http:\/\/ or https:\/\/ URL/],
  ])('webhook URL %s: %s', (url, problem) => {
    expect(webhookUrlProblem(url)?.problem).toMatch(problem);
  });

  it('a typo in an email "to" is a config error naming the field, with a hint; nothing is sent', async () => {
    const email = { type: 'email', on: ['failure'], host: '127.0.0.1', port: 1, tls: 'none', from: 'a@b' };
    const s = demoSetup((base) => ({
      ...base,
      notifications: [
        { ...email, to: ['ops@example.com'] },
        { ...email, to: ['dev@example.com', 'ops@@example'] },
      ],
    }));
    const r = await runCli(['notify', '--test', '--config', s.configFile]);
    expect(r.code, describeResult(r)).toBe(3);
    expect(r.stderr).toContain('notifications[1].to[1]: "ops@@example" is not an email address');
    expect(r.stderr).toContain('Write one address per entry: ops@example.com, or with a name');

    const from = demoSetup((base) => ({
      ...base,
      notifications: [{ ...email, from: 'ops example.com', to: ['c@d'] }],
    }));
    const f = await runCli(['notify', '--test', '--config', from.configFile]);
    expect(f.code, describeResult(f)).toBe(3);
    expect(f.stderr).toContain('notifications[0].from: "ops example.com" is not an email address');
  });

  it('a webhook URL with an impossible port is a config error naming the field, with a hint; the URL is not shown', async () => {
    const s = demoSetup((base) => ({
      ...base,
      notifications: [
        { type: 'webhook', on: ['failure'], url: 'https://hooks.example/ok' },
        { type: 'webhook', on: ['failure'], url: 'https://hooks.example:99999/SECRET-TOKEN' },
      ],
    }));
    const r = await runCli(['notify', '--test', '--config', s.configFile]);
    expect(r.code, describeResult(r)).toBe(3);
    expect(r.stderr).toContain('notifications[1].url: has port 99999, and a port is a number from 1 to 65535');
    expect(r.stderr).toContain('Check the port in the URL');
    expect(r.stderr).not.toContain('SECRET-TOKEN');
  });
});

describe('a webhook whose TLS certificate is refused (a real HTTPS server on 127.0.0.1)', () => {
  it('self-signed, then trusted but for another name: each said naming the channel, with what to do; trusted, it is sent', async () => {
    const dir = makeTmpDir();
    const key = join(dir, 'key.pem');
    const cert = join(dir, 'cert.pem');
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-days',
        '1',
        '-subj',
        '/CN=localhost',
        '-addext',
        'subjectAltName=DNS:localhost',
        '-keyout',
        key,
        '-out',
        cert,
      ],
      { stdio: 'ignore' },
    );
    let received = 0;
    const server = createHttpsServer({ key: readFileSync(key), cert: readFileSync(cert) }, (req, res) => {
      received++;
      req.resume().on('end', () => res.end());
    });
    const port = await freePort();
    await new Promise<void>((r) => server.listen(port, '127.0.0.1', r));
    try {
      const setup = (host: string) =>
        demoSetup((base) => ({
          ...base,
          notifications: [
            { type: 'webhook', name: 'chat', on: ['failure'], url: `https://${host}:${port}/hook/T0KEN` },
          ],
        })).configFile;

      const untrusted = await runCli(['notify', '--test', '--config', setup('localhost')]);
      expect(untrusted.code, describeResult(untrusted)).toBe(7);
      expect(untrusted.stdout).toContain(
        `FAILED chat (webhook): localhost:${port}: its TLS certificate is self-signed, not trusted here (DEPTH_ZERO_SELF_SIGNED_CERT)`,
      );
      expect(untrusted.stdout).toMatch(/not trusted here: add its CA certificate .* NODE_EXTRA_CA_CERTS/);
      expect(untrusted.stdout).not.toContain('--use-system-ca');

      const trust = { env: { NODE_EXTRA_CA_CERTS: cert } };
      const otherName = await runCli(['notify', '--test', '--config', setup('127.0.0.1')], trust);
      expect(otherName.code, describeResult(otherName)).toBe(7);
      expect(otherName.stdout).toContain(
        `FAILED chat (webhook): 127.0.0.1:${port}: its TLS certificate is for another host name (ERR_TLS_CERT_ALTNAME_INVALID)`,
      );
      expect(otherName.stdout).toContain(
        'The certificate is not for the host in the URL: use the name it was issued for',
      );
      expect(otherName.stdout).not.toContain('altnames');
      expect(received).toBe(0);

      const sent = await runCli(['notify', '--test', '--config', setup('localhost')], trust);
      expect(sent.code, describeResult(sent)).toBe(0);
      expect(sent.stdout).toMatch(/^sent +chat \(webhook\)$/m);
      expect(received).toBe(1);
    } finally {
      server.close();
    }
  });

  it.each([
    [
      "Hostname/IP does not match certificate's altnames: Host: mail.example. is not in the cert's list: ",
      /another host name/,
    ],
    [
      'self-signed certificate; if the root CA is installed locally, try running Node.js with --use-system-ca',
      /self-signed, not trusted/,
    ],
    ['unable to verify the first certificate', /signed by a CA not trusted here/],
    ['certificate has expired', /has expired/],
  ])('what nodemailer passes on from Node, said as the operator reads it: %s', (raw, said) => {
    expect(tlsProblem(raw)).toMatch(said);
    expect(notifyHint('email', tlsProblem(raw)!)).toMatch(/certificate/);
  });
});

describe.skipIf(!smtpAvailable() && !process.env['CI'])(
  'alerts from real runs (SMTP server and webhook on loopback)',
  () => {
    let smtp: SmtpServer;
    beforeAll(async () => {
      smtp = await startSmtp();
    });
    afterAll(async () => {
      await smtp?.stop();
    });

    it('a partial backup mails the operator in Spanish with the failed database and its hint; no secret leaves; the backup exit code is unchanged', async () => {
      const hook = await startWebhook();
      try {
        const s = demoSetup((base) => ({
          ...base,
          language: 'es',
          databases: [
            ...(base['databases'] as object[]),
            { name: 'perdida', engine: 'sqlite', path: './data/no-such.db' },
          ],
          notifications: [
            {
              type: 'email',
              name: 'ops-mail',
              on: ['partial', 'failure'],
              host: '127.0.0.1',
              port: smtp.port,
              tls: 'none',
              user: 'ops',
              password: '${SMTP_PASSWORD}',
              from: 'respaldo@srv1',
              to: ['ops@example.com'],
            },
            { type: 'webhook', name: 'chat', on: ['partial'], url: '${HOOK_URL}', format: 'slack' },
            { type: 'webhook', name: 'success-only', on: ['success'], url: hook.url, format: 'json' },
          ],
        }));
        const before = smtp.messages().length;
        const env = { SMTP_PASSWORD: 'pw-Secret-123', HOOK_URL: hook.url };
        const r = await runCli(['create', '--config', s.configFile, '--json'], { env });
        expect(r.code, describeResult(r)).toBe(4);
        const mails = await waitFor(
          () => (smtp.messages().length > before ? smtp.messages().slice(before) : null),
          'the mail',
        );
        const mail = mails[0]!;
        expect(mail).toMatch(/^Subject: .*copia de seguridad parcial/m);
        expect(mail).toContain('perdida: FALLÓ');
        expect(mail).toContain('Qué hacer:');
        // The missing file and what to do are said in Spanish too (they stayed English inside the Spanish mail).
        const body = mail.replace(/\r?\n /g, ' ');
        expect(body).toContain('- perdida: FALLÓ (Base SQLite perdida: no se encuentra el archivo ');
        expect(body).toContain('Qué hacer: Revise databases[].path de "perdida" en la configuración');
        expect(body).not.toMatch(/file not found|Check databases/);
        expect(mail).toMatch(/^To: ops@example.com/m);
        expect(mail).not.toContain('pw-Secret-123');
        expect(hook.received).toHaveLength(1); // chat got it; success-only did not
        expect(hook.received[0]!.raw).not.toContain('SECRET-TOKEN');
        const m = parseJsonOutput<{ id: string }>(r.stdout);
        expect(mail).toContain(m.id);
      } finally {
        hook.server.close();
      }
    });

    it("es: a database's error and hint that are respaldo's words are mailed in Spanish (a SQLite database gone)", async () => {
      // (A locked database said the same way took SQLite's 10 s busy wait; its words are tested in sqlite-open-errors.)
      const s = demoSetup((base) => ({
        ...base,
        language: 'es',
        databases: [
          ...(base['databases'] as object[]),
          { name: 'perdida', engine: 'sqlite', path: './data/perdida.db' },
        ],
        notifications: [
          { type: 'email', on: ['partial'], host: '127.0.0.1', port: smtp.port, tls: 'none', from: 'a@b', to: ['c@d'] },
        ],
      }));
      const before = smtp.messages().length;
      const r = await runCli(['create', '--config', s.configFile]);
      expect(r.code, describeResult(r)).toBe(4);
      expect(r.stdout + r.stderr).toContain('SQLite database perdida: file not found'); // the CLI speaks English
      const mail = (
        await waitFor(() => (smtp.messages().length > before ? smtp.messages().slice(before) : null), 'the mail')
      )[0]!.replace(/\r?\n /g, ' ');
      expect(mail).toContain('- perdida: FALLÓ (Base SQLite perdida: no se encuentra el archivo');
      expect(mail).toContain('Qué hacer: Revise databases[].path de "perdida" en la configuración');
      expect(mail).not.toContain('file not found');
      expect(mail).not.toContain('Check databases[].path');
    }, 60_000);

    it('a backup whose off-site copy failed is not mailed as a success: partial, naming the destination and why', async () => {
      const s = demoSetup((base) => ({
        ...base,
        destinations: [{ name: 'nas', type: 'folder', path: '/proc/respaldo-not-mounted' }],
        notifications: [
          {
            type: 'email',
            on: ['partial', 'failure'],
            host: '127.0.0.1',
            port: smtp.port,
            tls: 'none',
            from: 'a@b',
            to: ['c@d'],
          },
        ],
      }));
      const before = smtp.messages().length;
      const r = await runCli(['create', '--config', s.configFile]);
      expect(r.code, describeResult(r)).toBe(12);
      const mail = (
        await waitFor(() => (smtp.messages().length > before ? smtp.messages().slice(before) : null), 'the mail')
      )[0]!;
      expect(mail.replace(/\r?\n /g, ' ')).toMatch(
        /^Subject: .*backup partial: some databases, files or off-site copies were not saved/m,
      );
      expect(mail).toMatch(/- NOT copied to nas: .*respaldo copy/);
    });

    it('a notifier that cannot be reached never fails the backup: exit 0, the failure is in the log', async () => {
      const deadPort = await freePort();
      const s = demoSetup((base) => ({
        ...base,
        notifications: [
          { type: 'email', on: ['success'], host: '127.0.0.1', port: deadPort, tls: 'none', from: 'a@b', to: ['c@d'] },
        ],
      }));
      const r = await runCli(['create', '--config', s.configFile]);
      expect(r.code, describeResult(r)).toBe(0);
      const log = readdirSync(join(s.backupDir, 'logs'))
        .map((f) => readFileSync(join(s.backupDir, 'logs', f), 'utf8'))
        .join('');
      expect(log).toMatch(/"event":"notify".*"outcome":"failed"/);
    });

    it('on a terminal, a mail server that never answers: the backup says it is telling the channel while it waits', async () => {
      // Accepts and says nothing: nodemailer waits its greeting timeout (15 s) three times over.
      const silent = createNetServer(() => undefined);
      await new Promise<void>((r) => silent.listen(0, '127.0.0.1', () => r()));
      const port = (silent.address() as { port: number }).port;
      const s = demoSetup((base) => ({
        ...base,
        notifications: [
          {
            type: 'email',
            name: 'ops-mail',
            on: ['success'],
            host: '127.0.0.1',
            port,
            tls: 'none',
            from: 'a@b',
            to: ['c@d'],
          },
        ],
      }));
      const tty = startCliInTmux(['create', '--config', s.configFile], s.dir, { width: 80, height: 24 });
      try {
        await tty.waitForScreen(/Telling ops-mail how it ended \(a channel that does not answer is retried\)/);
        // Said once the set is written: the backup itself is done while the mail waits.
        const sets = readdirSync(s.backupDir).filter((n) => /^\d{8}_\d{6}/.test(n));
        expect(sets).toHaveLength(1);
        expect(readdirSync(join(s.backupDir, sets[0]!))).toContain('manifest.json');
      } finally {
        tty.kill();
        silent.close();
      }
    });

    it('notify --test sends to every channel and exits 0; a channel that fails makes it exit 7 naming it', async () => {
      const deadPort = await freePort();
      const s = demoSetup((base) => ({
        ...base,
        notifications: [
          {
            type: 'email',
            name: 'mail',
            on: ['failure'],
            host: '127.0.0.1',
            port: smtp.port,
            tls: 'none',
            from: 'a@b',
            to: ['c@d'],
          },
          { type: 'webhook', name: 'dead', on: ['failure'], url: `http://127.0.0.1:${deadPort}/`, format: 'teams' },
        ],
      }));
      const before = smtp.messages().length;
      const r = await runCli(['notify', '--test', '--config', s.configFile]);
      expect(r.code, describeResult(r)).toBe(7);
      expect(r.stdout).toMatch(/^sent +mail \(email\)$/m);
      // why, not only "fetch failed"
      expect(r.stdout).toMatch(/^FAILED dead \(webhook\): .*fetch failed: ECONNREFUSED/m);
      // and what to check
      expect(r.stdout).toMatch(
        /ECONNREFUSED\n {7}Nothing listens at that address: check the URL \(its host and port\)\.$/m,
      );
      await waitFor(() => smtp.messages().length > before || null, 'the test mail');
      expect(smtp.messages().at(-1)).toMatch(/^Subject: \[respaldo\] .*: test message/m);
    });

    it('a bad channel in the config names its field and changes nothing', async () => {
      const s = demoSetup((base) => ({
        ...base,
        notifications: [{ type: 'webhook', on: ['failure'], url: 'ftp://x' }],
      }));
      const r = await runCli(['notify', '--test', '--config', s.configFile]);
      expect(r.code).toBe(3);
      expect(r.stderr).toContain('notifications[0].url');
    });
  },
);

describe.skipIf(!smtpAvailable() && !process.env['CI'])('SMTP credentials never travel unencrypted', () => {
  it('tls auto (the default) with a user: a server offering AUTH without TLS gets no password, the send fails saying why; tls none sends as asked', async () => {
    const smtp = await startSmtp({ plainAuth: true });
    try {
      const channel = (tls?: string) => ({
        type: 'email',
        name: 'mail',
        on: ['failure'],
        host: '127.0.0.1',
        port: smtp.port,
        ...(tls ? { tls } : {}),
        user: 'respaldo',
        password: '${SMTP_PASSWORD}',
        from: 'a@b',
        to: ['c@d'],
      });
      const env = { SMTP_PASSWORD: 'hunter2-Secret' };
      const auto = demoSetup((base) => ({ ...base, notifications: [channel()] }));
      const r = await runCli(['notify', '--test', '--config', auto.configFile], { env });
      expect(r.code, describeResult(r)).toBe(7);
      expect(r.stdout).toMatch(/^FAILED mail \(email\): .*TLS/im);
      expect(r.stdout).toContain('The server offers no STARTTLS: use "tls": "implicit" on port 465');
      expect(smtp.logins()).toBe('');
      expect(smtp.messages()).toHaveLength(0);

      // Said explicitly (a relay on the same host): the operator's choice.
      const none = demoSetup((base) => ({ ...base, notifications: [channel('none')] }));
      const sent = await runCli(['notify', '--test', '--config', none.configFile], { env });
      expect(sent.code, describeResult(sent)).toBe(0);
      expect(smtp.logins()).toBe('respaldo hunter2-Secret\n');
    } finally {
      await smtp.stop();
    }
  });
});

describe('what to check when a channel fails (notifyHint, pure)', () => {
  it.each([
    ['email', 'connect ECONNREFUSED 127.0.0.1:587', /^Nothing listens at "host" and "port"/],
    ['email', 'getaddrinfo ENOTFOUND smtp.exmaple.com', /does not resolve/],
    ['email', 'Invalid login: 535 5.7.8 Authentication credentials invalid', /refused the login: check "user"/],
    ['email', 'Greeting never received', /never answered: a firewall, or the wrong port/],
    [
      'email',
      "Can't send mail - all recipients were rejected: 550 5.1.1 <c@d>: Recipient address rejected",
      /"from" .* and "to"/,
    ],
    ['email', 'self-signed certificate in certificate chain', /certificate is not trusted/],
    ['webhook', 'HTTP 404 Not Found', /No hook at that URL/],
    ['webhook', 'HTTP 403 Forbidden', /check the token or login in the URL/],
    ['webhook', 'HTTP 502 Bad Gateway', /failed on its side/],
    ['webhook', 'no answer within 30 s', /never answered: check the URL/],
    ['webhook', 'the port in the URL is one HTTP clients refuse to use (bad port)', /check the port in the URL/],
    ['webhook', 'h:1: its TLS certificate is for another host name (ERR_TLS_CERT_ALTNAME_INVALID)', /not for the host/],
  ] as const)('%s: %s', (type, error, hint) => {
    expect(notifyHint(type, error)).toMatch(hint);
  });

  it('an error that says nothing to act on gets no hint', () => {
    expect(notifyHint('webhook', 'HTTP 418 I am a teapot')).toBeUndefined();
  });
});
