// wafersim entry point.
#include "sim/run/cli.hpp"

int main(int argc, char** argv) { return wafersim::run::cli_main(argc, argv); }
