/** Port I/O helpers for device tests: the same calls a guest's IN/OUT make through the bus. */
import { Bus } from '../../bindings/devices/bus.js';

export function io(bus: Bus) {
  return {
    outb: (port: number, v: number) => bus.handleExit({ reason: 'io', port, size: 1, write: true, value: v }),
    outw: (port: number, v: number) => bus.handleExit({ reason: 'io', port, size: 2, write: true, value: v }),
    outl: (port: number, v: number) => bus.handleExit({ reason: 'io', port, size: 4, write: true, value: v }),
    inb: (port: number) => bus.handleExit({ reason: 'io', port, size: 1, write: false, value: 0 })!,
    inw: (port: number) => bus.handleExit({ reason: 'io', port, size: 2, write: false, value: 0 })!,
    inl: (port: number) => bus.handleExit({ reason: 'io', port, size: 4, write: false, value: 0 })!,
  };
}
