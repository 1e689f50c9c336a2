// Text and JSON renderings of an assertion report. Both walk the report in its order, so
// output is byte-identical for identical tables.
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

// ---- JSON ----------------------------------------------------------------------------------

std::string jsonString(std::string_view text) {
  std::string out = "\"";
  for (const char raw : text) {
    const auto c = static_cast<unsigned char>(raw);
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      default:
        if (c < 0x20) {
          std::array<char, 8> escaped{};
          std::snprintf(escaped.data(), escaped.size(), "\\u%04x", c);
          out += escaped.data();
        } else {
          out += raw;  // UTF-8 passes through unchanged
        }
    }
  }
  return out + "\"";
}

// Appends `"key": value` with a leading comma unless it is the object's first member.
class JsonObject {
 public:
  explicit JsonObject(std::string& out) : out_(out) { out_ += "{"; }
  ~JsonObject() { out_ += "}"; }
  JsonObject(const JsonObject&) = delete;
  JsonObject& operator=(const JsonObject&) = delete;

  std::string& key(std::string_view name) {
    out_ += first_ ? "" : ",";
    first_ = false;
    out_ += jsonString(name) + ":";
    return out_;
  }
  void number(std::string_view name, std::int64_t value) { key(name) += std::to_string(value); }
  void unsignedNumber(std::string_view name, std::uint64_t value) {
    key(name) += std::to_string(value);
  }
  void text(std::string_view name, std::string_view value) { key(name) += jsonString(value); }

 private:
  std::string& out_;
  bool first_ = true;
};

void appendJsonBuckets(std::string& out, const std::vector<BucketResult>& buckets) {
  out += "[";
  for (std::size_t i = 0; i < buckets.size(); ++i) {
    if (i > 0) out += ",";
    JsonObject bucket(out);
    std::string& keys = bucket.key("keys");
    keys += "[";
    for (std::size_t k = 0; k < buckets[i].keys.size(); ++k) {
      keys += (k > 0 ? "," : "") + std::to_string(buckets[i].keys[k]);
    }
    keys += "]";
    bucket.unsignedNumber("hits", buckets[i].hits);
    if (buckets[i].quality) bucket.number("quality", *buckets[i].quality);
  }
  out += "]";
}

void appendJsonSite(std::string& out, const SiteResult& site) {
  JsonObject object(out);
  object.text("status", siteStatusName(site.status));
  object.text("kind", kindName(site.kind));
  object.text("message", site.message);
  object.text("condition", site.condition);
  object.text("file", site.file);
  object.unsignedNumber("line", site.line);
  object.unsignedNumber("column", site.column);
  object.text("function", site.function);
  object.unsignedNumber("hits", site.hits);
  object.unsignedNumber("passes", site.passes);
  object.unsignedNumber("fails", site.fails);
  if (site.firstFailure) {
    JsonObject first(object.key("first_failure"));
    first.unsignedNumber("evaluation", site.firstFailure->evaluation);
    first.unsignedNumber("stamp", site.firstFailure->stamp);
    first.number("left", site.firstFailure->left);
    first.number("right", site.firstFailure->right);
  }
  if (site.watermark) object.number("watermark", *site.watermark);
  if (site.kind == AssertKind::kSometimesAll) {
    object.unsignedNumber("frontier", site.frontier);
    object.unsignedNumber("conditions", site.arity);
  }
  if (site.kind == AssertKind::kSometimesEach) {
    object.unsignedNumber("buckets_max", site.bucketsMax);
    object.unsignedNumber("bucket_overflows", site.bucketOverflows);
    appendJsonBuckets(object.key("buckets"), site.buckets);
  }
}

void appendJsonBreach(std::string& out, const ContractBreach& breach) {
  JsonObject object(out);
  object.text("breach", breachKindName(breach.breach));
  object.text("kind", kindName(breach.kind));
  object.text("message", breach.message);
  object.text("file", breach.file);
  object.unsignedNumber("line", breach.line);
  object.unsignedNumber("hits", breach.hits);
  object.unsignedNumber("passes", breach.passes);
  object.unsignedNumber("fails", breach.fails);
  object.text("summary", breach.summary);
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

std::string renderJson(const AssertionReport& report) {
  std::string out;
  {
    JsonObject root(out);
    root.unsignedNumber("violations", report.violations);
    root.unsignedNumber("discoveries", report.discoveries);
    root.unsignedNumber("bucket_overflows", report.bucketOverflows);
    std::string& sites = root.key("sites");
    sites += "[";
    for (std::size_t i = 0; i < report.sites.size(); ++i) {
      if (i > 0) sites += ",";
      appendJsonSite(sites, report.sites[i]);
    }
    sites += "]";
    const std::vector<ContractBreach> breaches = validateContracts(report);
    std::string& list = root.key("breaches");
    list += "[";
    for (std::size_t i = 0; i < breaches.size(); ++i) {
      if (i > 0) list += ",";
      appendJsonBreach(list, breaches[i]);
    }
    list += "]";
  }
  out += "\n";
  return out;
}

}  // namespace moonpool
