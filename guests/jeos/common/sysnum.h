/* System call numbers and the calling convention (see README.md, "System calls").
 *
 * int 0x80: EAX = number, arguments in EBX, ECX, EDX, ESI, EDI; result in EAX; every other
 *           register preserved.
 * SYSENTER: EAX = number, arguments in EBX, ESI, EDI (ECX and EDX are taken by the
 *           convention); before SYSENTER the caller puts its ESP in ECX and the address to
 *           resume at in EDX; the kernel returns with SYSEXIT (which loads EIP from EDX and
 *           ESP from ECX). Result in EAX; ECX, EDX and EFLAGS are clobbered. */
#ifndef JEOS_SYSNUM_H
#define JEOS_SYSNUM_H

#define SYS_EXIT    0  /* (status) */
#define SYS_WRITE   1  /* (buf, len) -> len; to the serial console */
#define SYS_FORK    2  /* () -> child pid in the parent, 0 in the child */
#define SYS_EXEC    3  /* (name) -> -1 on error; no return on success */
#define SYS_WAIT    4  /* (int *status) -> pid, or -1 when there is no child */
#define SYS_GETPID  5  /* () -> pid; also the null system call of the benchmarks */
#define SYS_SBRK    6  /* (increment) -> old break, or -1 */
#define SYS_WLCONF  7  /* (workload id) -> iteration count, 0 when not selected */
#define SYS_KBENCH  8  /* (workload id, iters) -> 0; runs a kernel-side workload */
#define SYS_YIELD   9  /* () -> 0 */
#define SYS_KILL    10 /* (pid) -> 0 or -1 */
#define SYS_DESKIP  11 /* (on) -> 0; when on, a #DE in ring 3 skips the DIV instead of killing */
#define SYS_FREEMEM 12 /* () -> free physical frames (for leak checks) */
#define SYS_READ    13 /* (buf, len) -> bytes read from the serial console; blocks for one */
#define SYS_OPTION  14 /* (option id) -> its value from the command line */
#define SYS_COUNT   15

#define OPTION_SHELL 0 /* shell=1: after the workloads, init reads commands from COM1 */

/* Exit status of a process killed by the kernel: 128 + the exception vector (as a shell
 * reports signals), or 128 + 9 for SYS_KILL. */
#define STATUS_KILLED(vector) (128 + (vector))

#endif
