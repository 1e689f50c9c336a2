// End-of-run contract validation: turns each site's status into a breach with a summary.
#include <string>

#include "moonpool/assertions/report.h"
#include "moonpool/check.h"

namespace moonpool {
namespace {

std::string count(std::uint64_t n, std::string_view noun) {
  return std::to_string(n) + " " + std::string(noun) + (n == 1 ? "" : "s");
}

std::string failureSummary(const SiteResult& site) {
  std::string out = "failed " + std::to_string(site.fails) + " of " +
                    count(site.hits, "evaluation");
  if (!site.firstFailure) return out;
  out += "; first at evaluation " + std::to_string(site.firstFailure->evaluation);
  if (isNumericAlways(site.kind)) {
    out += " (left = " + std::to_string(site.firstFailure->left) +
           ", right = " + std::to_string(site.firstFailure->right) + ")";
  }
  if (site.firstFailure->stamp != 0) {
    out += ", stamp " + std::to_string(site.firstFailure->stamp);
  }
  return out;
}

std::string neverTrueSummary(const SiteResult& site) {
  std::string out = "never held in " + count(site.hits, "evaluation");
  if (site.watermark) out += "; best value " + std::to_string(*site.watermark);
  if (site.kind == AssertKind::kSometimesAll) {
    out += "; at most " + std::to_string(site.frontier) + " of " +
           std::to_string(site.arity) + " conditions at once";
  }
  return out;
}

// The breach of a site that is not passing; `kind` already chosen by the status.
ContractBreach makeBreach(const SiteResult& site, BreachKind breach) {
  ContractBreach out{.breach = breach,
                     .kind = site.kind,
                     .message = site.message,
                     .file = site.file,
                     .line = site.line,
                     .hits = site.hits,
                     .passes = site.passes,
                     .fails = site.fails,
                     .summary = {}};
  switch (breach) {
    case BreachKind::kAlwaysViolated:
      out.summary = failureSummary(site);
      break;
    case BreachKind::kUnreachableReached:
      out.summary = "reached " + count(site.hits, "time");
      break;
    case BreachKind::kNeverTrue:
      out.summary = neverTrueSummary(site);
      break;
    case BreachKind::kNeverReached:
      out.summary = "never reached (must be evaluated at least once)";
      break;
    case BreachKind::kBucketOverflow:
      out.summary = count(site.bucketOverflows, "evaluation") + " found no free bucket (" +
                    std::to_string(site.bucketsMax) + " buckets, kBucketsPerSiteMax)";
      break;
  }
  return out;
}

}  // namespace

std::vector<ContractBreach> validateContracts(const AssertionReport& report) {
  std::vector<ContractBreach> breaches;
  for (const SiteResult& site : report.sites) {
    MOONPOOL_CHECK_EQ(site.hits, site.passes + site.fails, site.message);
    switch (site.status) {
      case SiteStatus::kPass:
        break;
      case SiteStatus::kFail:
        breaches.push_back(makeBreach(site, site.kind == AssertKind::kUnreachable
                                                ? BreachKind::kUnreachableReached
                                                : BreachKind::kAlwaysViolated));
        break;
      case SiteStatus::kNeverReached:
        MOONPOOL_CHECK(isMustHitKind(site.kind), site.message);
        breaches.push_back(makeBreach(site, BreachKind::kNeverReached));
        break;
      case SiteStatus::kNeverTrue:
        MOONPOOL_CHECK(!isInvariantKind(site.kind), site.message);
        breaches.push_back(makeBreach(site, BreachKind::kNeverTrue));
        break;
      case SiteStatus::kBucketOverflow:
        breaches.push_back(makeBreach(site, BreachKind::kBucketOverflow));
        break;
    }
  }
  return breaches;
}

}  // namespace moonpool
