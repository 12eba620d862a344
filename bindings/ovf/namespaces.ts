/**
 * XML namespaces of OVF descriptors, and the leniency real producers need.
 *
 * DSP0243 1.x (its XML schema annex) uses `http://schemas.dmtf.org/ovf/envelope/1`,
 * DSP0243 2.x uses `http://schemas.dmtf.org/ovf/envelope/2`; the pre-standard OVF 0.9
 * (VMware, 2007) used `http://www.vmware.com/schema/ovf/1/envelope`. The CIM classes in
 * items come from the DMTF CIM schema namespaces below (DSP0243 1.1 and 2.1 section
 * 8.3).
 */

export const NS_OVF_1 = 'http://schemas.dmtf.org/ovf/envelope/1';
export const NS_OVF_2 = 'http://schemas.dmtf.org/ovf/envelope/2';
export const NS_OVF_09 = 'http://www.vmware.com/schema/ovf/1/envelope';
export const NS_OVFENV_1 = 'http://schemas.dmtf.org/ovf/environment/1';

const CIM = 'http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/';
export const NS_RASD = CIM + 'CIM_ResourceAllocationSettingData';
export const NS_VSSD = CIM + 'CIM_VirtualSystemSettingData';
/** DSP0243 2.x section 8.1: StorageItem uses CIM_StorageAllocationSettingData. */
export const NS_SASD = CIM + 'CIM_StorageAllocationSettingData';
/** DSP0243 2.x section 8.1: EthernetPortItem uses CIM_EthernetPortAllocationSettingData. */
export const NS_EPASD = CIM + 'CIM_EthernetPortAllocationSettingData';
export const NS_CIM_COMMON = 'http://schemas.dmtf.org/wbem/wscim/1/common';
export const NS_XSI = 'http://www.w3.org/2001/XMLSchema-instance';
export const NS_XML = 'http://www.w3.org/XML/1998/namespace';
export const NS_XMLNS = 'http://www.w3.org/2000/xmlns/';
/** wasmvisor's own extension elements (boot options); always written with ovf:required="false". */
export const NS_WASMVISOR = 'urn:x-wasmvisor:ovf:1';

/** The OVF major family a namespace belongs to. */
export type OvfFamily = '0.9' | '1' | '2';

/**
 * Canonical form of a namespace URI as producers write it: trims white space, a trailing
 * slash, a trailing `.xsd` and the `https` scheme (all seen in the wild, e.g. VirtualBox
 * writes `.../CIM_EthernetPortAllocationSettingData.xsd`).
 */
export function canonicalNamespace(uri: string | null | undefined): string {
  if (!uri) return '';
  let u = uri.trim();
  if (u.startsWith('https://')) u = 'http://' + u.slice(8);
  for (;;) {
    if (u.endsWith('/')) u = u.slice(0, -1);
    else if (u.toLowerCase().endsWith('.xsd')) u = u.slice(0, -4);
    else break;
  }
  return u;
}

/** Which OVF envelope family a namespace URI is, or null if it is none. */
export function ovfFamily(uri: string | null | undefined): OvfFamily | null {
  const u = canonicalNamespace(uri);
  if (u === NS_OVF_1) return '1';
  if (u === NS_OVF_2) return '2';
  if (u === NS_OVF_09) return '0.9';
  return null;
}

/**
 * The CIM settings-data class a namespace names (`CIM_ResourceAllocationSettingData`...),
 * or null. Matches on the class name after the schema path so that variants of the path
 * (seen in published examples) still resolve.
 */
export function cimClass(uri: string | null | undefined): string | null {
  const u = canonicalNamespace(uri);
  if (!u.startsWith('http://schemas.dmtf.org/wbem/wscim/')) return null;
  const m = /(CIM_[A-Za-z]+SettingData)$/.exec(u);
  return m ? m[1] : null;
}

/** The envelope namespace the writer uses for a family. */
export function envelopeNamespace(family: OvfFamily): string {
  return family === '2' ? NS_OVF_2 : family === '0.9' ? NS_OVF_09 : NS_OVF_1;
}
