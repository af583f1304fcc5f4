// stripe-reconciler: see README.md. main() only sets the process up.
#include "cli/cli.hpp"

#include <sys/stat.h>
#if defined(__GLIBC__)
#include <malloc.h>
#endif

int main(int argc, char** argv) {
    // Reports and databases hold customer data: nothing world-readable.
    ::umask(027);
#if defined(__GLIBC__)
    // One malloc arena for the run's two threads: pages parsed on the network
    // thread are freed on the worker that applies them, and a second arena
    // kept ~30 MB of such freed memory resident.
    ::mallopt(M_ARENA_MAX, 1);
#endif
    return reconciler::cli_main(argc, argv);
}
