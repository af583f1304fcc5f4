// stripe-reconciler: see README.md. main() only sets the process up.
#include "cli/cli.hpp"
#include "pipeline/process_memory.hpp"

#include <sys/prctl.h>
#include <sys/stat.h>

#include <cstdio>

int main(int argc, char** argv) {
    // The Stripe key (and the webhook secret) live in this process's memory:
    // no core dump of it, and no ptrace or /proc/PID/mem by another process
    // of the same user (gcore, a debugger), from before the key is read.
    // Root with CAP_SYS_PTRACE can still attach; LimitCORE=0 in the units too.
    if (::prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0) std::perror("reconciler: prctl(PR_SET_DUMPABLE, 0)");
    // Reports and databases hold customer data: nothing world-readable.
    ::umask(027);
    reconciler::pipeline::tune_process_memory();  // before any thread exists
    return reconciler::cli_main(argc, argv);
}
