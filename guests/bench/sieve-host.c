/* Host program of scripts/build-bench-guests.sh: runs the guest's sieve() (the same
 * object code) on this machine's CPU under valgrind's callgrind, which counts the
 * instructions it executes. */
int sieve(char *flags, int size, int iterations);
static char flags[8191];
int main(int argc, char **argv)
{
    return sieve(flags, 8190, argc > 1 ? 0 : ITERATIONS) == 1899 ? 0 : 1;
}
