// Whether the CPU is in SVM guest mode and who made the entry (assembly/vmm/guest.ts keeps
// both for the two vendors).
import { guestMode, hostOwned, setGuestMode, GUEST_SVM, GUEST_NONE } from '../vmm/guest';
@inline export function inSvmGuest(): bool { return guestMode == GUEST_SVM; }
@inline export function svmHostOwned(): bool { return hostOwned; }
export function setSvmGuest(on: bool, owned: bool): void {
  setGuestMode(on ? GUEST_SVM : GUEST_NONE, owned);
}
