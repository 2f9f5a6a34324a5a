/** Set ids are `YYYYMMDD_HHMMSS` in local time, with `_2`, `_3`… when a second already has one. */
export const SET_ID_PATTERN = /^\d{8}_\d{6}(_\d{1,4})?$/;

export function baseSetId(now: Date): string {
  const p = (n: number) => String(n).padStart(2, '0');
  return `${now.getFullYear()}${p(now.getMonth() + 1)}${p(now.getDate())}_${p(now.getHours())}${p(now.getMinutes())}${p(now.getSeconds())}`;
}

/** A fresh id not in `taken`. Pure. */
export function newSetId(now: Date, taken: ReadonlySet<string>): string {
  const base = baseSetId(now);
  if (!taken.has(base)) return base;
  for (let i = 2; ; i++) {
    const id = `${base}_${i}`;
    if (!taken.has(id)) return id;
  }
}

/**
 * Pure: set ids in the order they were made (for sort): by their second, then `_2`, `_3`… `_10` as numbers (as text
 * `_10` sorts before `_9`).
 */
export function compareSetIds(a: string, b: string): number {
  const [secondA = '', nA = '1'] = a.split(/_(?=\d{1,4}$)/);
  const [secondB = '', nB = '1'] = b.split(/_(?=\d{1,4}$)/);
  return secondA < secondB ? -1 : secondA > secondB ? 1 : Number(nA) - Number(nB);
}

export function isSetId(name: string): boolean {
  return SET_ID_PATTERN.test(name);
}
