/* init: the first process. It checks the kernel's process and memory machinery
 * (checks.c), runs the workloads in the order of common/wl.h (workloads.c), prints a
 * summary, offers a prompt with shell=1 (shell.c), and exits with the number of
 * failures, which the kernel turns into the machine's exit code. */
#include "init.h"

int failures;

void check(const char *name, int ok, const char *detail) {
  printf("check %s %s%s%s\n", name, ok ? "ok" : "FAIL", detail[0] ? " " : "", detail);
  if (!ok) failures++;
}

void report(int id, u32 iters, const char *extra, u64 cycles) {
  char line[200];
  int n = wl_format(line, sizeof line, id, iters, extra, cycles);
  write(line, (u32)n);
}

void fail(int id, const char *why) {
  printf("wl %s FAIL %s\n", wl_defs[id].name, why);
  failures++;
}

int main(void) {
  printf("init pid=%d\n", getpid());
  run_checks();
  int ran = 0;
  for (int id = 0; id < WL_COUNT; id++) {
    u32 n = wlconf((u32)id);
    if (n == 0) continue;
    ran++;
    run_workload(id, n);
  }
  printf("jeos summary workloads=%d failures=%d\n", ran, failures);
  if (option(OPTION_SHELL) == 1) shell();
  return failures;
}
