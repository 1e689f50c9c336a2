// Shared fixture and lookups for the assertion tests.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <string_view>

#include "moonpool/assertions.h"
#include "moonpool/assertions/report.h"

namespace moonpool {

// Every test starts from an empty table and keeps failures off stderr.
class FreshAssertionTable : public ::testing::Test {
 protected:
  void SetUp() override {
    setFailurePrinting(FailurePrinting::kOff);
    resetAssertionTable();
  }
};

// The report entry with `message`; a test failure (and an empty entry) when there is none.
// By value: callers often pass a temporary report.
inline SiteResult siteNamed(const AssertionReport& report, std::string_view message) {
  auto it = std::find_if(report.sites.begin(), report.sites.end(),
                         [&](const SiteResult& s) { return s.message == message; });
  if (it == report.sites.end()) {
    ADD_FAILURE() << "no site with message " << message;
    return SiteResult{};
  }
  return *it;
}

}  // namespace moonpool
