// The command-line tool: parses arguments, runs the command, maps exceptions to exit codes
// (0 success, 2 bad input, 3 impossible plan, 1 internal error).
#pragma once

namespace wafersim::run {

int cli_main(int argc, char** argv);

}  // namespace wafersim::run
