// Whether the CPU is in SVM guest mode and who made the entry. Kept apart so the rest of
// assembly/svm/ asks one place.
let guest: bool = false;
let host: bool = false;
@inline export function inSvmGuest(): bool { return guest; }
@inline export function svmHostOwned(): bool { return host; }
export function setSvmGuest(on: bool, hostOwned: bool): void { guest = on; host = on && hostOwned; }
