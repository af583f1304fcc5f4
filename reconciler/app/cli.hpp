// The command line: parses arguments, dispatches to a command, maps every
// failure to one clear line on stderr and a documented exit code (run.hpp).
#pragma once

namespace reconciler {

int cli_main(int argc, char** argv);

}  // namespace reconciler
