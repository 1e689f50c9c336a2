// What failed during one seed: the invariant sites whose failure counts grew, described for
// a seed's verdict (see assertions/report.h).
#include <string>

#include "moonpool/assertions/report.h"
#include "moonpool/check.h"

namespace moonpool {

std::vector<std::uint64_t> failCounts(const AssertionReport& report) {
  std::vector<std::uint64_t> out;
  out.reserve(report.sites.size());
  for (const SiteResult& site : report.sites) out.push_back(site.fails);
  return out;
}

std::vector<SiteResult> invariantFailuresSince(const std::vector<std::uint64_t>& before,
                                               const AssertionReport& now) {
  MOONPOOL_CHECK_EQ(now.sites.size(), before.size(), "the assertion catalog changed");
  std::vector<SiteResult> out;
  for (std::size_t i = 0; i < now.sites.size(); ++i) {
    const SiteResult& site = now.sites[i];
    if (site.fails <= before[i] || !isInvariantKind(site.kind)) continue;
    out.push_back(site);
    out.back().fails = site.fails - before[i];
  }
  return out;
}

std::string describeInvariantFailures(const std::vector<SiteResult>& failures,
                                      std::uint64_t violations) {
  if (violations == 0) return "";
  std::string out;
  if (!failures.empty()) {
    const SiteResult& first = failures.front();
    out = std::string(kindName(first.kind)) + " \"" + first.message + "\" failed at " +
          first.file + ":" + std::to_string(first.line);
    if (failures.size() > 1) {
      out += " (and " + std::to_string(failures.size() - 1) + " more site(s))";
    }
    out += "\n";
  }
  out += std::to_string(violations) + " always/unreachable assertion failure(s) during this seed:";
  for (const SiteResult& site : failures) {
    out += "\n  " + std::string(kindName(site.kind)) + " \"" + site.message + "\"";
    if (!site.condition.empty()) out += " (" + site.condition + ")";
    out += " at " + site.file + ":" + std::to_string(site.line) + " failed " +
           std::to_string(site.fails) + " time(s)";
  }
  return out;
}

}  // namespace moonpool
