/*
 * The npm version ranges instrumentations declare (`>=8.0.3 <9`, `^4.0.0`, `>= 3 < 5 || 6.x`, `*`),
 * checked as `semver.satisfies` would, without carrying a semver dependency.
 */
type Triple = [number, number, number];

interface Parsed {
  triple: Triple;
  prerelease: boolean;
}

export function satisfies(version: string, ranges: string[], includePrerelease = false): boolean {
  const parsed = parse(version);
  if (!parsed) return ranges.includes('*');
  if (parsed.prerelease && !includePrerelease) return false;
  return ranges.some((range) => range.split('||').some((set) => inSet(parsed.triple, set)));
}

function inSet(v: Triple, set: string): boolean {
  const hyphen = /^\s*(\S+)\s+-\s+(\S+)\s*$/.exec(set);
  if (hyphen) return cmp(v, '>=', hyphen[1]!) && cmp(v, '<=', hyphen[2]!);
  const comparators = set
    .replace(/(>=|<=|>|<|=|\^|~)\s+/g, '$1')
    .trim()
    .split(/\s+/);
  return comparators.every((c) => {
    const [, op = '', partial = ''] = /^(>=|<=|>|<|=|\^|~)?v?(.*)$/.exec(c)!;
    return cmp(v, op, partial);
  });
}

/** `v op partial`, where a partial like `4`, `4.x` or `*` stands for a whole span of versions. */
function cmp(v: Triple, op: string, partial: string): boolean {
  const parts = partial.split('.').filter((p) => p !== '' && !/^[x*]$/i.test(p));
  if (partial === '' || partial === '*' || parts.length === 0) return !['<', '>'].includes(op);
  const nums = parts.slice(0, 3).map((p) => parseInt(p, 10));
  const low: Triple = [nums[0] ?? 0, nums[1] ?? 0, nums[2] ?? 0];
  const depth = nums.length;
  const high = (level: number): Triple =>
    level === 1 ? [low[0] + 1, 0, 0] : level === 2 ? [low[0], low[1] + 1, 0] : [low[0], low[1], low[2] + 1];
  const c = (a: Triple) => compare(v, a);
  switch (op) {
    case '>=':
      return c(low) >= 0;
    case '>':
      return depth === 3 ? c(low) > 0 : c(high(depth)) >= 0;
    case '<':
      return c(low) < 0;
    case '<=':
      return depth === 3 ? c(low) <= 0 : c(high(depth)) < 0;
    case '^': {
      const caretDepth = low[0] > 0 || depth === 1 ? 1 : low[1] > 0 || depth === 2 ? 2 : 3;
      return c(low) >= 0 && c(high(caretDepth)) < 0;
    }
    case '~':
      return c(low) >= 0 && c(high(depth === 1 ? 1 : 2)) < 0;
    default:
      return depth < 3 ? c(low) >= 0 && c(high(depth)) < 0 : c(low) === 0;
  }
}

function parse(version: string): Parsed | undefined {
  const match = /^v?(\d+)\.(\d+)\.(\d+)(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?$/.exec(version.trim());
  if (!match) return undefined;
  return { triple: [Number(match[1]), Number(match[2]), Number(match[3])], prerelease: match[4] !== undefined };
}

function compare(a: Triple, b: Triple): number {
  return a[0] - b[0] || a[1] - b[1] || a[2] - b[2];
}
