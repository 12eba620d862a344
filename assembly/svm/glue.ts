// Where assembly/svm/ meets the shared non-root layer: raising a #VMEXIT.
export function svmRaise(): void {}
