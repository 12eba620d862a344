/* The console prompt init offers with shell=1. */
#include "init.h"

/* shell=1: commands from the console, one a line: a workload name and an optional
 * iteration count, "list", or "exit". */
void shell(void) {
  printf("jeos shell: type a workload name and a count (syscall 1000), list, or exit\n");
  printf("jeos> ");
  char line[64];
  for (;;) {
    u32 n = 0;
    for (;;) {
      char c;
      if (read(&c, 1) != 1) return;
      if (c == '\r' || c == '\n') break;
      if (n < sizeof line - 1) line[n++] = c;
    }
    line[n] = 0;
    if (n == 0) continue; /* the LF of a CR LF */
    char *arg = line;
    while (*arg && *arg != ' ') arg++;
    if (*arg) *arg++ = 0;
    u32 count = 0;
    int bad = 0;
    for (; *arg; arg++) {
      if (*arg == ' ') continue;
      if (*arg < '0' || *arg > '9' || count > 99999999) bad = 1;
      else count = count * 10 + (u32)(*arg - '0');
    }
    int id = -1;
    for (int i = 0; i < WL_COUNT; i++)
      if (strcmp(line, wl_defs[i].name) == 0) id = i;
    if (strcmp(line, "exit") == 0) return;
    if (strcmp(line, "list") == 0) {
      for (int i = 0; i < WL_COUNT; i++) printf("%s %u\n", wl_defs[i].name, wl_defs[i].iters);
    } else if (id < 0 || bad) {
      printf("jeos shell: unknown command or bad count: %s\n", line);
    } else {
      run_workload(id, count ? count : wl_defs[id].iters);
    }
    printf("jeos> ");
  }
}
