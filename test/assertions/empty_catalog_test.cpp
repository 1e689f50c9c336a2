// Goal: a binary without a single assertion site links (the section bounds are weak) and
// gets an empty catalog, an empty region and an empty report.
// Method: this file has no MOONPOOL_ assertion macro; it only calls the table and report API.
#include <gtest/gtest.h>

#include "moonpool/assertions/report.h"
#include "moonpool/runner/report.h"  // the one JSON rendering of the table
#include "moonpool/assertions/table.h"

namespace moonpool {
namespace {

TEST(EmptyCatalog, LinksAndReportsNothing) {
  EXPECT_TRUE(assertionCatalog().empty());
  resetAssertionTable();
  EXPECT_EQ(assertionTableStats().siteCount, 0u);
  const AssertionReport report = collectAssertionReport();
  EXPECT_TRUE(report.sites.empty());
  EXPECT_TRUE(validateContracts(report).empty());
  EXPECT_EQ(renderAssertionsJson(report),
            "{\"violations\":0,\"discoveries\":0,\"bucket_overflows\":0,\"sites\":[],"
            "\"breaches\":[]}\n");
  allocateAssertionTable(TableSharing::kShared);
  EXPECT_EQ(assertionTableSharing(), TableSharing::kShared);
}

}  // namespace
}  // namespace moonpool
