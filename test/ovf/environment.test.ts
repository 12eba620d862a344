/**
 * ProductSection properties per deployment configuration, `ovf import --property`, and
 * the OVF environment that carries the values to the guest (DSP0243 9.5, 9.8, 11). The
 * ISO 9660 image is read back with isoinfo (genisoimage), not with our own reader.
 */
import { describe, expect, it } from 'vitest';
import { copyFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { DOMParser } from '@xmldom/xmldom';
import { readOvf } from '../../bindings/ovf/reader.js';
import { virtualSystems } from '../../bindings/ovf/model.js';
import {
  assignProperties, propertyValues, qualifierProblem,
} from '../../bindings/ovf/environment.js';
import { importOva } from '../../bindings/ovf/node/files.js';
import { iso9660 } from '../../bindings/ovf/iso9660.js';
import { hasTool } from '../helpers/tools.js';
import { REPO, cli, ovfError, tempDir, vmdk } from './helpers.js';

const CSR = join(REPO, 'test/fixtures/ovf/forms/csr-style.ovf');
const env = readOvf(readFileSync(CSR));
const vs = virtualSystems(env.content)[0];
const value = (cfg: string | undefined, key: string) =>
  propertyValues(vs, cfg).find((v) => v.property.key === key)!.value;
const NS = 'http://schemas.dmtf.org/ovf/environment/1';

/** Property key to value, read from an environment document with a DOM parser. */
function envProperties(xml: string): Record<string, string> {
  const doc = new DOMParser().parseFromString(xml, 'text/xml');
  const root = doc.documentElement!;
  expect(root.namespaceURI).toBe(NS);
  expect(root.localName).toBe('Environment');
  const out: Record<string, string> = {};
  const ps = root.getElementsByTagNameNS(NS, 'Property');
  for (let i = 0; i < ps.length; i++)
    out[ps[i].getAttributeNS(NS, 'key')!] = ps[i].getAttributeNS(NS, 'value')!;
  return out;
}

describe('property values per configuration (DSP0243 9.5, 9.8)', () => {
  it('a Value element for the configuration in force wins over ovf:value', () => {
    expect(value('1CPU-1GB', 'license-boot-level')).toBe('ipbase');
    expect(value('4CPU-2GB', 'license-boot-level')).toBe('ax');
    expect(value('4CPU-2GB', 'mgmt-mtu')).toBe('1500');
  });
  it('keys in the environment are [class.]key[.instance]', () => {
    expect(propertyValues(vs).map((v) => v.key)).toContain('com.example.router.hostname.1');
  });
});

describe('--property checks (DSP0243 9.5: type, qualifiers, ovf:userConfigurable)', () => {
  const set = (k: string, v: string) => () => assignProperties(propertyValues(vs), { [k]: v });
  it('accepts a good value, by plain or fully qualified key', () => {
    const values = propertyValues(vs);
    assignProperties(values, { hostname: 'r1', 'com.example.router.mgmt-mtu.1': '9000' });
    expect(values.filter((v) => v.assigned).map((v) => v.value)).toEqual(['r1', '9000']);
  });
  for (const [k, v, why] of [
    ['config-version', '2.0', /not user-configurable/],
    ['queue-depth', 'deep', /uint8.*not an integer/],
    ['queue-depth', '300', /outside uint8/],
    ['queue-depth', '65', /above 64 \(MaxValue\)/],
    ['queue-depth', '0', /below 1 \(MinValue\)/],
    ['hostname', 'h'.repeat(64), /longer than 63 characters \(MaxLen\)/],
    ['login-password', '', /shorter than 1 characters \(MinLen\)/],
    ['mgmt-mtu', '1400', /not one of "1500", "9000" \(ValueMap\)/],
    ['enable-ssh-server', 'yes', /not a boolean/],
    ['nope', 'x', /no property "nope"; there are: /],
  ] as const) {
    it(`${k}=${v.length > 10 ? v.slice(0, 8) + '...' : v}: refused`, async () => {
      expect((await ovfError(set(k, v))).message).toMatch(why);
    });
  }
  it('never echoes a password value', async () => {
    const e = await ovfError(set('login-password', 'x'.repeat(30)));
    expect(e.message).not.toContain('xxxx');
  });
  it('qualifiers as VMware writes them (comma-separated) are read too', () => {
    expect(qualifierProblem('MinLen(2),MaxLen(3)', 'abcd')).toMatch(/MaxLen/);
    expect(qualifierProblem('MinLen(2),MaxLen(3)', 'abc')).toBeNull();
  });
});

describe('the OVF environment reaches the guest (DSP0243 11)', () => {
  it('an ISO 9660 image isoinfo reads, holding OVF_ENV.XML', { skip: !hasTool('isoinfo') }, () => {
    const dir = tempDir();
    const xml = '<?xml version="1.0"?><Environment/>\n';
    const iso = iso9660([{ name: 'OVF_ENV.XML', data: new TextEncoder().encode(xml) }], 'OVF_ENV');
    const p = join(dir, 'e.iso');
    writeFileSync(p, iso);
    const d = execFileSync('isoinfo', ['-d', '-i', p], { encoding: 'utf8' });
    expect(d).toMatch(/Volume id: OVF_ENV/);
    expect(d).toMatch(/Logical block size is: 2048/);
    expect(d).toMatch(new RegExp(`Volume size is: ${iso.length / 2048}`));
    expect(execFileSync('isoinfo', ['-f', '-i', p], { encoding: 'utf8' })).toBe('/OVF_ENV.XML;1\n');
    expect(execFileSync('isoinfo', ['-i', p, '-x', '/OVF_ENV.XML;1'], { encoding: 'utf8' }))
      .toBe(xml);
  });

  it('import --property writes ovf-env.xml and attaches ovf-env.iso', async () => {
    const dir = tempDir();
    copyFileSync(CSR, join(dir, 'r.ovf'));
    vmdk(join(dir, 'router.vmdk'));
    const r = await cli('import', '--configuration', '1CPU-1GB', '--property', 'hostname=edge-1',
      '--property', 'enable-ssh-server=true', join(dir, 'r.ovf'), join(dir, 'vm'));
    expect(r.err).toBe('');
    expect(r.status).toBe(0);
    const xml = readFileSync(join(dir, 'vm', 'ovf-env.xml'), 'utf8');
    const props = envProperties(xml);
    // The values given, the configuration's Value, and ovf:value defaults (from the descriptor).
    expect(props['com.example.router.hostname.1']).toBe('edge-1');
    expect(props['com.example.router.enable-ssh-server.1']).toBe('true');
    expect(props['com.example.router.license-boot-level.1']).toBe('ipbase');
    expect(props['com.example.router.config-version.1']).toBe('1.0');
    const cfg = JSON.parse(readFileSync(join(dir, 'vm', 'vm.json'), 'utf8'));
    expect(cfg.disks).toContainEqual(expect.objectContaining({
      path: 'ovf-env.iso', media: 'disk', format: 'raw', readOnly: true,
    }));
    if (hasTool('isoinfo'))
      expect(execFileSync('isoinfo', ['-i', join(dir, 'vm', 'ovf-env.iso'), '-x', '/OVF_ENV.XML;1'],
        { encoding: 'utf8' })).toBe(xml);
  });

  it('import refuses a bad --property value before writing anything', async () => {
    const dir = tempDir();
    copyFileSync(CSR, join(dir, 'r.ovf'));
    vmdk(join(dir, 'router.vmdk'));
    const e = await ovfError(() => importOva(join(dir, 'r.ovf'), join(dir, 'vm'), {
      properties: { 'mgmt-mtu': '1400' },
    }));
    expect(e.message).toMatch(/ValueMap/);
    expect(existsSync(join(dir, 'vm'))).toBe(false);
  });
});
