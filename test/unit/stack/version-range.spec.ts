import semver from 'semver';
import { satisfies } from '../../../lib/instrumentations/contrib/version-range.js';

// The ranges contrib instrumentations declare, and a few more shapes; semver itself is the oracle.
const ranges = [
  '*',
  '>=8.0.3 <9',
  '>=2.0.0 <4',
  '>= 3.0.0 < 4',
  '>=2.0.0 <7',
  '^4.0.0',
  '^0.3.1',
  '^0.0.5',
  '~1.2.3',
  '~1.2',
  '4.x',
  '4',
  '>=3.6 <5 || 6.x',
  '1.2.3 - 2.3',
  '1.2.3 - 2.3.4',
  '>1.2',
  '<=2',
  '=1.2.3',
  '1.2.3',
];
const versions = ['0.0.5', '0.0.6', '0.3.0', '0.3.4', '0.4.0', '1.2.3', '1.2.9', '1.3.0', '2.3.4', '2.3.9', '2.4.0'];
versions.push('3.0.0', '3.6.0', '3.9.9', '4.0.0', '4.9.1', '5.0.0', '6.2.0', '7.0.0', '8.0.3', '8.23.1', '9.0.0');

describe('version ranges as semver reads them', () => {
  it.each(ranges)('%s', (range) => {
    for (const version of versions) {
      expect([version, satisfies(version, [range])]).toEqual([version, semver.satisfies(version, range)]);
    }
  });

  it('leaves prereleases out unless asked, and takes an unknown version only for "*"', () => {
    expect(satisfies('4.1.0-beta.1', ['>=4 <5'])).toBe(false);
    expect(satisfies('4.1.0-beta.1', ['>=4 <5'], true)).toBe(true);
    expect(satisfies('not-a-version', ['*'])).toBe(true);
    expect(satisfies('not-a-version', ['>=1'])).toBe(false);
  });
});
