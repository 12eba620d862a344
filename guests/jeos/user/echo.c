/* The program the exec check runs: it prints one line and exits with status 42. */
#include "ulib.h"

int main(void) {
  printf("echo pid=%d says hello from an exec'd program\n", getpid());
  return 42;
}
