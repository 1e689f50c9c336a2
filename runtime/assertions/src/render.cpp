// The text rendering of an assertion report (the JSON one is the runner's). It walks the
// report in its order, so output is byte-identical for identical tables.
#include <array>
#include <cstdio>
#include <string>
#include <vector>

#include "moonpool/assertions/report.h"
#include "moonpool/check.h"

namespace moonpool {
namespace {

// ---- text ----------------------------------------------------------------------------------

constexpr std::size_t kColumns = 8;
using Row = std::array<std::string, kColumns>;
// Columns holding counts are right-aligned.
constexpr std::array<bool, kColumns> kRightAligned = {false, false, true, true, true,
                                                      false, false, false};

std::string location(const std::string& file, std::uint32_t line) {
  return file + ":" + std::to_string(line);
}

std::string keysText(const std::vector<std::int64_t>& keys) {
  std::string out = "{";
  for (std::size_t i = 0; i < keys.size(); ++i) {
    if (i > 0) out += ", ";
    out += std::to_string(keys[i]);
  }
  return out + "}";
}

std::string detailText(const SiteResult& site) {
  std::string out;
  auto add = [&out](const std::string& part) { out += (out.empty() ? "" : " ") + part; };
  if (site.watermark) add("best=" + std::to_string(*site.watermark));
  if (site.kind == AssertKind::kSometimesAll) {
    add("frontier=" + std::to_string(site.frontier) + "/" + std::to_string(site.arity));
  }
  if (site.kind == AssertKind::kSometimesEach) {
    add("buckets=" + std::to_string(site.buckets.size()) + "/" +
        std::to_string(site.bucketsMax));
    if (site.bucketOverflows > 0) add("overflow=" + std::to_string(site.bucketOverflows));
  }
  if (site.firstFailure) add("first_fail@" + std::to_string(site.firstFailure->evaluation));
  return out;
}

Row siteRow(const SiteResult& site) {
  return Row{std::string(siteStatusName(site.status)), std::string(kindName(site.kind)),
             std::to_string(site.hits), std::to_string(site.passes),
             std::to_string(site.fails), detailText(site), location(site.file, site.line),
             "\"" + site.message + "\" (" + site.condition + ")"};
}

void appendTable(std::string& out, const std::vector<Row>& rows) {
  std::array<std::size_t, kColumns> width{};
  for (const Row& row : rows) {
    for (std::size_t c = 0; c < kColumns; ++c) width[c] = std::max(width[c], row[c].size());
  }
  for (const Row& row : rows) {
    std::string line;
    for (std::size_t c = 0; c < kColumns; ++c) {
      const std::string pad(width[c] - row[c].size(), ' ');
      if (c > 0) line += "  ";
      line += kRightAligned[c] ? pad + row[c] : row[c] + (c + 1 < kColumns ? pad : "");
    }
    while (!line.empty() && line.back() == ' ') line.pop_back();
    out += line + "\n";
  }
}

void appendBuckets(std::string& out, const SiteResult& site) {
  out += "buckets of \"" + site.message + "\" at " + location(site.file, site.line) + " (" +
         site.condition + "): " + std::to_string(site.buckets.size()) + " of " +
         std::to_string(site.bucketsMax);
  if (site.bucketOverflows > 0) {
    out += ", OVERFLOW: " + std::to_string(site.bucketOverflows) + " evaluations lost";
  }
  out += "\n";
  for (const BucketResult& bucket : site.buckets) {
    out += "  " + keysText(bucket.keys) + " hits=" + std::to_string(bucket.hits);
    if (bucket.quality) out += " quality=" + std::to_string(*bucket.quality);
    out += "\n";
  }
}

}  // namespace

std::string renderText(const AssertionReport& report) {
  std::string out = "assertions: " + std::to_string(report.sites.size()) + " sites, " +
                    std::to_string(report.violations) + " violations, " +
                    std::to_string(report.discoveries) + " discoveries, " +
                    std::to_string(report.bucketOverflows) + " bucket overflows\n";
  std::vector<Row> rows{
      Row{"STATUS", "KIND", "HITS", "PASS", "FAIL", "DETAIL", "LOCATION", "MESSAGE"}};
  for (const SiteResult& site : report.sites) rows.push_back(siteRow(site));
  appendTable(out, rows);
  for (const SiteResult& site : report.sites) {
    if (site.kind == AssertKind::kSometimesEach && site.hits > 0) appendBuckets(out, site);
  }
  const std::vector<ContractBreach> breaches = validateContracts(report);
  out += "contract breaches: " + std::to_string(breaches.size()) + "\n";
  for (const ContractBreach& breach : breaches) {
    out += "  " + std::string(isDefiniteBug(breach.breach) ? "BUG  " : "GAP  ") +
           std::string(breachKindName(breach.breach)) + " " +
           location(breach.file, breach.line) + " " + std::string(kindName(breach.kind)) +
           " \"" + breach.message + "\": " + breach.summary + "\n";
  }
  return out;
}

}  // namespace moonpool
