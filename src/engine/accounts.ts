import { readFileSync } from 'node:fs';
import type { FileOwner } from '../core/types.js';

/**
 * Users and groups of this machine by id and by name, from /etc/passwd and /etc/group (read once): what a set records
 * of a file's owner, and who owns it once restored on another machine, where the same user may have another id (as
 * tar restores owners by name). Accounts only a directory service knows (LDAP, through NSS) are not in those files:
 * their ids are recorded without names, and restored as those ids.
 */
interface Accounts {
  userById: Map<number, string>;
  userByName: Map<string, number>;
  groupById: Map<number, string>;
  groupByName: Map<string, number>;
}

let cached: Accounts | undefined;

/** `name:…:id:…` lines of a file like /etc/passwd or /etc/group: id field `at`. Unreadable: none. */
export function parseAccounts(text: string, at: number): [string, number][] {
  const out: [string, number][] = [];
  for (const line of text.split('\n')) {
    const fields = line.split(':');
    const id = Number(fields[at]);
    if (fields[0] && !line.startsWith('#') && fields[at] !== '' && Number.isInteger(id) && id >= 0)
      out.push([fields[0], id]);
  }
  return out;
}

function accounts(): Accounts {
  if (cached) return cached;
  const read = (file: string) => {
    try {
      return readFileSync(file, 'utf8');
    } catch {
      return '';
    }
  };
  const users = parseAccounts(read('/etc/passwd'), 2);
  const groups = parseAccounts(read('/etc/group'), 2);
  // The first line of an id or a name wins, as getpwuid/getpwnam read them.
  const first = <K, V>(pairs: [K, V][]) => {
    const m = new Map<K, V>();
    for (const [k, v] of pairs) if (!m.has(k)) m.set(k, v);
    return m;
  };
  cached = {
    userById: first(users.map(([n, id]) => [id, n])),
    userByName: first(users),
    groupById: first(groups.map(([n, id]) => [id, n])),
    groupByName: first(groups),
  };
  return cached;
}

/** The owner of a file as a set records it: ids, with the names this machine gives them. */
export function ownerOf(uid: number, gid: number): FileOwner {
  const key = `${uid}:${gid}`;
  const known = owners.get(key);
  if (known) return known;
  const a = accounts();
  const user = a.userById.get(uid);
  const group = a.groupById.get(gid);
  const owner = { uid, gid, ...(user !== undefined ? { user } : {}), ...(group !== undefined ? { group } : {}) };
  owners.set(key, owner);
  return owner;
}

/**
 * Owners given by ownerOf, one object for each pair of ids: the manifest entries of a set's files share them (an
 * object and two names a file, else). Nobody changes an entry's owner.
 */
const owners = new Map<string, FileOwner>();

/** The ids to restore `owner` as here: each name this machine knows, else the recorded id. */
export function idsOf(owner: FileOwner): { uid: number; gid: number } {
  const a = accounts();
  return {
    uid: (owner.user !== undefined ? a.userByName.get(owner.user) : undefined) ?? owner.uid,
    gid: (owner.group !== undefined ? a.groupByName.get(owner.group) : undefined) ?? owner.gid,
  };
}
