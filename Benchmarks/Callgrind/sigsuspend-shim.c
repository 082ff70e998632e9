// Preloaded under valgrind so that Swift programs that start tasks can run under it.
//
// On Linux, an `async` main ends in `dispatch_main()`, whose main thread waits in
// `sigsuspend(mask)` with a mask in libdispatch's read-only data. Valgrind's wrapper of
// `rt_sigsuspend` removes its own signal from that mask in place, which faults, and valgrind
// stops with "the 'impossible' happened". This `sigsuspend` hands the kernel a writable copy.
#define _GNU_SOURCE
#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>

int sigsuspend(const sigset_t *mask) {
    sigset_t copy = *mask;
    return (int)syscall(SYS_rt_sigsuspend, &copy, 8);
}
