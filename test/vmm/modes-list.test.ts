/**
 * The list of modes user interfaces offer: every entry is well formed, native comes first
 * and needs no option, and a choice outside the list is refused with what the build offers.
 */
import { describe, expect, it } from 'vitest';
import { MODES, modeOptions } from '../../bindings/index.js';

describe('MODES', () => {
  it('starts with native, which needs no Machine.create option', () => {
    expect(MODES[0].name).toBe('native');
    expect(modeOptions('native')).toEqual({});
  });
  it('has unique names, a published column of A&A figure 4 and switches on offered pagings', () => {
    expect(new Set(MODES.map((m) => m.name)).size).toBe(MODES.length);
    for (const m of MODES) {
      expect(['native', 'bt', 'vtx', 'pv']).toContain(m.published);
      for (const s of m.switches) if (s.paging) expect(m.paging).toContain(s.paging);
    }
  });
  it('refuses an unknown mode, naming the ones offered', () => {
    expect(() => modeOptions('nope')).toThrow(/unknown mode "nope" \(this build offers: native/);
  });
});
