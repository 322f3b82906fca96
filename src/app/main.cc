// The custos executable: the one place that wires every layer together.
#include "cli/cli.h"

int main(int argc, char** argv) { return custos::cli::Run(argc, argv); }
