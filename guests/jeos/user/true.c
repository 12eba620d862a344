/* The program the forkexec workload runs: it exits at once with status 0. */
int main(void) { return 0; }
