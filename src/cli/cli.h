// The `custos` command line: parses arguments (CLI11) and calls workflows.
#ifndef CUSTOS_CLI_CLI_H_
#define CUSTOS_CLI_CLI_H_

namespace custos::cli {

// Runs one command; returns the process exit status (docs/cli.md).
int Run(int argc, char** argv);

}  // namespace custos::cli

#endif  // CUSTOS_CLI_CLI_H_
