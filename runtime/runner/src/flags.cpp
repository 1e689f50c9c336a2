// The runner's strict flag parser (see flags.h).
#include "flags.h"

#include <algorithm>
#include <map>
#include <optional>
#include <string_view>

#include "absl/flags/commandlineflag.h"
#include "absl/flags/reflection.h"

namespace moonpool::internal {
namespace {

// Flags defined by Abseil itself (help, flagfile, fromenv...): their file path says so.
bool isAbseilFlag(const absl::CommandLineFlag& flag) {
  return flag.Filename().find("absl/") != std::string::npos;
}

absl::CommandLineFlag* findFlag(std::string_view name) {
  absl::CommandLineFlag* flag =
      absl::FindCommandLineFlag(absl::string_view(name.data(), name.size()));
  if (flag == nullptr || flag->IsRetired()) return nullptr;
  return flag;
}

struct Resolved {
  absl::CommandLineFlag* flag = nullptr;
  std::string name;
  std::optional<std::string> value;  // nullopt: none given inline
};

absl::Status resolve(std::string_view arg, Resolved& out) {
  std::string_view body = arg.substr(arg.find_first_not_of('-'));
  std::optional<std::string> value;
  if (const std::size_t eq = body.find('='); eq != std::string_view::npos) {
    value = std::string(body.substr(eq + 1));
    body = body.substr(0, eq);
  }
  out.name = std::string(body);
  out.value = value;
  out.flag = findFlag(body);
  if (out.flag == nullptr && body.substr(0, 2) == "no") {
    absl::CommandLineFlag* negated = findFlag(body.substr(2));
    if (negated != nullptr && negated->IsOfType<bool>()) {
      if (value) return absl::InvalidArgumentError("--" + out.name + " takes no value");
      out.flag = negated;
      out.name = std::string(body.substr(2));
      out.value = "false";
    }
  }
  if (out.flag == nullptr) return absl::InvalidArgumentError("unknown flag --" + out.name);
  if (isAbseilFlag(*out.flag)) {
    return absl::InvalidArgumentError("--" + out.name + " is not supported by this binary");
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status parseCommandLine(int argc, char** argv, ParsedCommandLine& out) {
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg.size() < 2 || arg[0] != '-' || arg.find_first_not_of('-') == std::string_view::npos) {
      return absl::InvalidArgumentError("unexpected argument '" + std::string(arg) +
                                        "' (flags look like --seeds=10)");
    }
    const std::string_view bare = arg.substr(arg.find_first_not_of('-'));
    if (bare == "help" || bare == "helpfull" || bare == "helpshort") {
      out.help = ParsedCommandLine::Help::kYes;
      continue;
    }
    Resolved r;
    if (absl::Status s = resolve(arg, r); !s.ok()) return s;
    if (!r.value && r.flag->IsOfType<bool>()) r.value = "true";
    if (!r.value) {
      if (i + 1 >= argc) return absl::InvalidArgumentError("flag --" + r.name + " needs a value");
      r.value = argv[++i];
    }
    std::string error;
    if (!r.flag->ParseFrom(*r.value, &error)) {
      return absl::InvalidArgumentError("invalid value '" + *r.value + "' for --" + r.name + ": " +
                                        error);
    }
    if (std::find(out.given.begin(), out.given.end(), r.name) == out.given.end()) {
      out.given.push_back(r.name);
    }
  }
  return absl::OkStatus();
}

std::vector<std::string> flagsAsGiven(const std::vector<std::string>& given,
                                      const std::vector<std::string>& exclude) {
  std::vector<std::string> out;
  for (const std::string& name : given) {
    if (std::find(exclude.begin(), exclude.end(), name) != exclude.end()) continue;
    absl::CommandLineFlag* flag = findFlag(name);
    if (flag == nullptr) continue;
    out.push_back("--" + name + "=" + flag->CurrentValue());
  }
  return out;
}

std::string usageText(const std::string& program, const std::string& title) {
  std::map<std::string, absl::CommandLineFlag*> sorted;
  for (const auto& [name, flag] : absl::GetAllFlags()) {
    if (flag->IsRetired() || isAbseilFlag(*flag)) continue;
    sorted.emplace(std::string(name), flag);
  }
  std::string out = program + ": " + title + "\n\nFlags:\n";
  for (const auto& [name, flag] : sorted) {
    out += "  --" + name + "  " + flag->Help() + " (default: " + flag->DefaultValue() + ")\n";
  }
  out += "\nExit status: 0 all seeds and contracts passed, 1 a failure, 2 bad flags.\n";
  return out;
}

}  // namespace moonpool::internal
