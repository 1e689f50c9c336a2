// The runner's strict flag parser (see flags.h).
#include "flags.h"

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <map>
#include <optional>
#include <string_view>

#include "absl/flags/commandlineflag.h"
#include "absl/flags/flag.h"
#include "absl/flags/reflection.h"

// ---- the explorer's tuning flags (explorer/README.md "Knobs") ------------------------------
// Each applies only when given; its default is then the simulation's exploration config (the
// library defaults are in explorer.h and the README).
ABSL_FLAG(int64_t, explore_batch, 8,
          "exploration: children forked between two productivity checks of a splitpoint");
ABSL_FLAG(int64_t, explore_timelines_min, 24,
          "exploration: children a splitpoint forks before it may be judged barren");
ABSL_FLAG(int64_t, explore_warm_timelines_min, 0,
          "exploration: the same on seeds after the first (0: --explore_batch)");
ABSL_FLAG(int64_t, explore_timelines_max, 96, "exploration: children per splitpoint, at most");
ABSL_FLAG(int64_t, explore_mark_energy, 192,
          "exploration: a mark's budget of children for a whole seed (then the shared pool)");
ABSL_FLAG(int64_t, explore_depth_max, 32, "exploration: forks nest at most this deep");
ABSL_FLAG(int64_t, explore_respawn_depth, 2,
          "exploration: from this depth on the root forks children and they replay their "
          "recipe (cheaper than forking deep processes; 0: never)");
ABSL_FLAG(int64_t, explore_timeline_ms, 60000,
          "exploration: wall-clock watchdog per timeline in ms; a timeline running longer is "
          "killed and reported as a hang (0: none)");
ABSL_FLAG(std::string, explore_order, "fast",
          "exploration: the search order. fast: timelines fork at their discoveries, and with "
          "--jobs > 1 what is found depends on timing; fixed: recipes as jobs merged in a fixed "
          "order, so the same seed finds the same bugs with the same stats for any --jobs");

namespace moonpool::internal {
namespace {

struct TuningFlag {
  const char* name;
  absl::Flag<int64_t>* flag;
  std::int64_t min;
  std::int64_t max;
  void (*apply)(explorer::Config& config, std::int64_t value);
};

const TuningFlag kTuningFlags[] = {
    {"explore_batch", &FLAGS_explore_batch, 1, 1 << 20,
     [](explorer::Config& c, std::int64_t v) { c.adaptive.batch = static_cast<std::uint32_t>(v); }},
    {"explore_timelines_min", &FLAGS_explore_timelines_min, 0, 1 << 20,
     [](explorer::Config& c, std::int64_t v) {
       c.adaptive.timelinesMin = static_cast<std::uint32_t>(v);
     }},
    {"explore_warm_timelines_min", &FLAGS_explore_warm_timelines_min, 0, 1 << 20,
     [](explorer::Config& c, std::int64_t v) {
       c.adaptive.warmTimelinesMin = static_cast<std::uint32_t>(v);
     }},
    {"explore_timelines_max", &FLAGS_explore_timelines_max, 1, 1 << 20,
     [](explorer::Config& c, std::int64_t v) {
       c.adaptive.timelinesMax = static_cast<std::uint32_t>(v);
     }},
    {"explore_mark_energy", &FLAGS_explore_mark_energy, 0, std::int64_t{1} << 40,
     [](explorer::Config& c, std::int64_t v) {
       c.adaptive.perMarkEnergy = static_cast<std::uint64_t>(v);
     }},
    {"explore_depth_max", &FLAGS_explore_depth_max, 0, explorer::kDepthMax,
     [](explorer::Config& c, std::int64_t v) { c.depthMax = static_cast<std::uint32_t>(v); }},
    {"explore_respawn_depth", &FLAGS_explore_respawn_depth, 0, explorer::kDepthMax,
     [](explorer::Config& c, std::int64_t v) {
       c.respawnDepth = static_cast<std::uint32_t>(v);
     }},
    {"explore_timeline_ms", &FLAGS_explore_timeline_ms, 0,
     static_cast<std::int64_t>(explorer::kTimelineWallMsMax),
     [](explorer::Config& c, std::int64_t v) {
       c.timelineWallMsMax = static_cast<std::uint64_t>(v);
     }},
};

}  // namespace

const std::vector<std::string>& explorerTuningFlagNames() {
  static const std::vector<std::string> kNames = [] {
    std::vector<std::string> names;
    for (const TuningFlag& t : kTuningFlags) names.emplace_back(t.name);
    names.emplace_back("explore_order");
    return names;
  }();
  return kNames;
}

absl::Status applyExplorerTuningFlags(const std::vector<std::string>& given,
                                      explorer::Config& config) {
  for (const TuningFlag& t : kTuningFlags) {
    if (std::find(given.begin(), given.end(), t.name) == given.end()) continue;
    const std::int64_t value = absl::GetFlag(*t.flag);
    if (value < t.min || value > t.max) {
      return absl::InvalidArgumentError("--" + std::string(t.name) + " must be in [" +
                                        std::to_string(t.min) + ", " + std::to_string(t.max) +
                                        "], got " + std::to_string(value));
    }
    t.apply(config, value);
  }
  if (std::find(given.begin(), given.end(), "explore_order") != given.end()) {
    const std::string order = absl::GetFlag(FLAGS_explore_order);
    if (order != "fast" && order != "fixed") {
      return absl::InvalidArgumentError("--explore_order must be fast or fixed, got '" + order +
                                        "'");
    }
    config.order = order == "fixed" ? explorer::SearchOrder::kFixed : explorer::SearchOrder::kFast;
  }
  return absl::OkStatus();
}

}  // namespace moonpool::internal
// ---- end of the explorer's tuning flags ---------------------------------------------------

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

absl::Status expand(std::vector<std::string> args, int depth, std::vector<std::string>& out);

absl::Status readFlagfile(const std::string& path, int depth, std::vector<std::string>& out) {
  if (depth >= kFlagfileDepthMax) {
    return absl::InvalidArgumentError("--flagfile=" + path + ": flagfiles nest deeper than " +
                                      std::to_string(kFlagfileDepthMax));
  }
  std::ifstream file(path);
  if (!file) {
    return absl::InvalidArgumentError("--flagfile=" + path + ": cannot read it: " +
                                      std::strerror(errno));
  }
  std::vector<std::string> lines;
  std::size_t bytes = 0;
  int number = 0;
  for (std::string line; std::getline(file, line);) {
    ++number;
    bytes += line.size() + 1;
    if (bytes > kFlagfileBytesMax) {
      return absl::InvalidArgumentError("--flagfile=" + path + ": larger than 1 MiB");
    }
    const std::size_t begin = line.find_first_not_of(" \t\r");
    if (begin == std::string::npos || line[begin] == '#') continue;
    const std::size_t end = line.find_last_not_of(" \t\r");
    std::string flag = line.substr(begin, end - begin + 1);
    if (flag[0] != '-') {
      return absl::InvalidArgumentError("--flagfile=" + path + ":" + std::to_string(number) +
                                        ": expected a flag, got '" + flag + "'");
    }
    lines.push_back(std::move(flag));
  }
  return expand(std::move(lines), depth + 1, out);
}

absl::Status readFromenv(const std::string& names, std::vector<std::string>& out) {
  std::size_t start = 0;
  while (start <= names.size()) {
    std::size_t comma = names.find(',', start);
    if (comma == std::string::npos) comma = names.size();
    const std::string name = names.substr(start, comma - start);
    start = comma + 1;
    if (name.empty()) continue;
    const std::string variable = "FLAGS_" + name;
    const char* value = std::getenv(variable.c_str());
    if (value == nullptr) {
      return absl::InvalidArgumentError("--fromenv=" + names + ": " + variable + " is not set");
    }
    out.push_back("--" + name + "=" + value);
  }
  return absl::OkStatus();
}

// Replaces --flagfile and --fromenv by the flags they stand for.
absl::Status expand(std::vector<std::string> args, int depth, std::vector<std::string>& out) {
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    const std::size_t dashes = arg.find_first_not_of('-');
    const std::string_view bare =
        dashes == std::string::npos ? std::string_view() : std::string_view(arg).substr(dashes);
    bool expanded = false;
    for (const std::string_view name :
         {std::string_view("flagfile"), std::string_view("fromenv")}) {
      if (dashes == 0 || bare.substr(0, name.size()) != name) continue;
      const std::string_view rest = bare.substr(name.size());
      if (!rest.empty() && rest[0] != '=') continue;
      std::string value;
      if (rest.empty()) {
        if (i + 1 >= args.size()) {
          return absl::InvalidArgumentError("flag --" + std::string(name) + " needs a value");
        }
        value = args[++i];
      } else {
        value = std::string(rest.substr(1));
      }
      absl::Status s = name == "flagfile" ? readFlagfile(value, depth, out)
                                          : readFromenv(value, out);
      if (!s.ok()) return s;
      expanded = true;
      break;
    }
    if (!expanded) out.push_back(arg);
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status parseCommandLine(int argc, char** argv, ParsedCommandLine& out) {
  std::vector<std::string> args;
  if (absl::Status s = expand(std::vector<std::string>(argv + std::min(argc, 1), argv + argc),
                              0, args);
      !s.ok()) {
    return s;
  }
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string_view arg = args[i];
    if (arg.size() < 2 || arg[0] != '-' || arg.find_first_not_of('-') == std::string_view::npos) {
      return absl::InvalidArgumentError("unexpected argument '" + std::string(arg) +
                                        "' (flags look like --seeds=10)");
    }
    const std::string_view bare = arg.substr(arg.find_first_not_of('-'));
    if (bare == "help" || bare == "helpfull" || bare == "helpshort") {
      out.help = ParsedCommandLine::Help::kYes;
      continue;
    }
    if (bare == "version") {
      out.version = ParsedCommandLine::Version::kYes;
      continue;
    }
    Resolved r;
    if (absl::Status s = resolve(arg, r); !s.ok()) return s;
    if (!r.value && r.flag->IsOfType<bool>()) r.value = "true";
    if (!r.value) {
      if (i + 1 >= args.size()) {
        return absl::InvalidArgumentError("flag --" + r.name + " needs a value");
      }
      r.value = args[++i];
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
  out += "\nExit status (REPORT_FORMATS.md): 0 every seed and contract passed; 1 a bug: a "
         "failing seed, an explored bug or a broken invariant; 2 bad flags or input; 3 a "
         "coverage gap: no bug, but a sometimes never held or a must-hit site never ran; 4 "
         "--build names another build; 130 interrupted (SIGINT/SIGTERM: the reports cover the "
         "seeds finished).\n";
  return out;
}

}  // namespace moonpool::internal
