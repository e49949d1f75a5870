#pragma once
// The `awq` subcommands. Each parses its own arguments (argv[first..]) and returns the
// process exit code; errors propagate as awq::Error and main() prints them.

namespace awq {
class CancelToken;
}

namespace awq::cli {

int runInfo(int argc, char **argv, int first);
int runGenerate(int argc, char **argv, int first);
int runPerplexity(int argc, char **argv, int first);
int runTrain(int argc, char **argv, int first);
int runQuantize(int argc, char **argv, int first);
int runBench(int argc, char **argv, int first);
int runServe(int argc, char **argv, int first);

// Installs a SIGINT handler that cancels the current job (a second Ctrl+C kills).
void cancelOnInterrupt(const awq::CancelToken &token);

} // namespace awq::cli
