#ifndef JEOS_SYSCALL_H
#define JEOS_SYSCALL_H
#include "x86.h"
/* Runs the system call in tf->eax with arguments EBX, ESI, EDI (both conventions). */
int syscall_dispatch(struct trapframe *tf);
void sysenter_init(void);
#endif
