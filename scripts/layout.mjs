// The one source of the offsets shared by the core (assembly/) and the host (bindings/).
export const layout = {
  STATE_BASE: 0x1000,
};
