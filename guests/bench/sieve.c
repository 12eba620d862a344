/*
 * The Sieve of Eratosthenes benchmark as Jim Gilbreath published it in C ("A High-Level
 * Language Benchmark", BYTE, September 1981; the listing widely reproduced since), made
 * a function so that the bench guest can call gcc's code for it unchanged: the flags
 * array comes as an argument (the code then needs no relocation) and the iteration count
 * too. With size 8190 every iteration finds 1899 primes, the figure the article prints.
 */
#define true 1
#define false 0

int sieve(char *flags, int size, int iterations)
{
    int i, prime, k, count = 0, iter;
    for (iter = 1; iter <= iterations; iter++) {
        count = 0;
        for (i = 0; i <= size; i++)
            flags[i] = true;
        for (i = 0; i <= size; i++) {
            if (flags[i]) {
                prime = i + i + 3;
                k = i + prime;
                while (k <= size) {
                    flags[k] = false;
                    k += prime;
                }
                count = count + 1;
            }
        }
    }
    return count;
}
