// stripe-reconciler: see README.md. main() only sets the process up.
#include "app/cli.hpp"

#include <sys/stat.h>

int main(int argc, char** argv) {
    // Reports and databases hold customer data: nothing world-readable.
    ::umask(027);
    return reconciler::cli_main(argc, argv);
}
