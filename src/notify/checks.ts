import addressparser from 'nodemailer/lib/addressparser/index.js';

/** A problem with one field of a channel, said at config load: what is wrong, and what to write instead. */
export interface ChannelFieldProblem {
  problem: string;
  hint: string;
}

/**
 * Ports fetch refuses to connect to ("bad port", the WHATWG fetch standard's list: ports of other protocols such as
 * SMTP, IRC and X11), so a webhook on one of them can never be reached. Checked against Node's fetch.
 */
export const FETCH_BLOCKED_PORTS: ReadonlySet<number> = new Set([
  0, 1, 7, 9, 11, 13, 15, 17, 19, 20, 21, 22, 23, 25, 37, 42, 43, 53, 69, 77, 79, 87, 95, 101, 102, 103, 104, 109, 110,
  111, 113, 115, 117, 119, 123, 135, 137, 139, 143, 161, 179, 389, 427, 465, 512, 513, 514, 515, 526, 530, 531, 532,
  540, 548, 554, 556, 563, 587, 601, 636, 989, 990, 993, 995, 1719, 1720, 1723, 2049, 3659, 4045, 4190, 5060, 5061,
  6000, 6566, 6665, 6666, 6667, 6668, 6669, 6679, 6697, 10080,
]);

/**
 * Pure: what is wrong with a webhook URL, or undefined when respaldo can send to it: an http(s) URL whose port (if
 * given) is a port at all (1–65535) and not one fetch refuses. The URL holds a token, so no problem quotes it.
 */
export function webhookUrlProblem(raw: string): ChannelFieldProblem | undefined {
  const written = /^[a-z][a-z0-9+.-]*:\/\/(?:[^/?#@]*@)?(?:\[[^\]]*\]|[^/?#:]*):(\d+)(?:[/?#]|$)/i.exec(raw)?.[1];
  if (written !== undefined && (Number(written) < 1 || Number(written) > 65535))
    return {
      problem: `has port ${written}, and a port is a number from 1 to 65535`,
      hint: 'Check the port in the URL (after the host and ":"), or leave it out for 443 (https) or 80 (http).',
    };
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    url = new URL('invalid:');
  }
  if (!/^https?:$/.test(url.protocol))
    return {
      problem: 'must be an http:// or https:// URL',
      hint: 'Copy the webhook URL from Slack/Teams (keep it in ${VAR}: it is a secret).',
    };
  const port = Number(url.port);
  if (url.port && FETCH_BLOCKED_PORTS.has(port))
    return {
      problem: `has port ${port}, which HTTP clients refuse to use (it belongs to another protocol)`,
      hint: 'Check the port in the URL: a webhook receiver listens on 443 or 80, or another port not kept for mail, SSH, IRC and the like.',
    };
  return undefined;
}

/**
 * One mailbox as an operator writes it: `ops@example.com`. A rule simple enough to say in a hint, strict enough to
 * catch typos (`ops@@example`, `ops example.com`, `ops@example..com`): a local part without spaces, "@" or "<>", then
 * a domain of dot-separated labels of letters, digits and "-" (a bare host such as `localhost` is a domain too), or
 * an address literal in brackets. Quoted local parts, which the standard allows and no operator writes, are refused.
 */
const MAILBOX =
  /^[^\s@<>()[\]\\,;:"]+@(?:[\p{L}\p{N}](?:[\p{L}\p{N}-]*[\p{L}\p{N}])?(?:\.[\p{L}\p{N}](?:[\p{L}\p{N}-]*[\p{L}\p{N}])?)*|\[[0-9a-fA-F:.]+\])$/u;

/**
 * Pure: what is wrong with an email `from` or one `to` entry, or undefined. One address per entry, bare or with a
 * display name as nodemailer reads it (`"Ops Team" <ops@example.com>`, nodemailer's own address parser).
 */
export function emailAddressProblem(raw: string): ChannelFieldProblem | undefined {
  const text = raw.trim();
  const hint =
    'Write one address per entry: ops@example.com, or with a name: "Ops Team <ops@example.com>" (more recipients go in more "to" entries).';
  const parsed = text ? addressparser(text, { flatten: true }) : [];
  const only = parsed.length === 1 ? parsed[0] : undefined;
  if (parsed.length > 1) return { problem: `"${raw}" holds ${parsed.length} addresses`, hint };
  // Without "<…>" the whole entry is the address: nodemailer reads `ops@exa mple.com` as "ops@exa", named "mple.com".
  const bare = !text.includes('<');
  if (!only || !MAILBOX.test(only.address) || (bare && only.address !== text) || only.name.includes('@'))
    return { problem: `"${raw}" is not an email address`, hint };
  return undefined;
}
