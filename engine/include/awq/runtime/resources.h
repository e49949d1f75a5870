#pragma once
// Where AWQ Studio's bundled data (the demo model, the calibration and evaluation texts)
// is found. One rule for the CLI, the GUI and the tests. Folders searched, in order:
//   1. $AWQ_STUDIO_DATA
//   2. <dir of the running executable>/../share/awq-studio   (a relocated install)
//   3. <install prefix>/share/awq-studio                      (the configured install)
//   4. <source tree>/resources                                 (running from a build tree)

#include <filesystem>
#include <vector>

namespace awq {

std::vector<std::filesystem::path> dataDirectories();

// The first of dataDirectories() that exists (the folder bundled data comes from when the
// install is complete), or an empty path. `awq --version` prints it.
std::filesystem::path dataDirectory();

// The first <data dir>/<relative> that exists, or an empty path.
std::filesystem::path findData(const std::filesystem::path &relative);

// Bundled files, by their relative paths.
inline constexpr const char *kDemoModelPath = "models/demo-llama";
inline constexpr const char *kCalibrationTextPath = "text/brown-calibration.txt";
inline constexpr const char *kHeldOutTextPath = "text/brown-heldout.txt";

} // namespace awq
