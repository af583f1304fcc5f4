// stripe-reconciler: see README.md. main() only sets the process up.
#include "cli/cli.hpp"
#include "pipeline/process_memory.hpp"

#include <sys/stat.h>

int main(int argc, char** argv) {
    // Reports and databases hold customer data: nothing world-readable.
    ::umask(027);
    reconciler::pipeline::tune_process_memory();  // before any thread exists
    return reconciler::cli_main(argc, argv);
}
