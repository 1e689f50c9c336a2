// Goal: IpAddress (moonpool/network.h) is a plain value: octets in, the same 32-bit value
// out, "a.b.c.d" both ways, and ordered exactly as its value, so maps keyed by IpAddress or
// NetAddress iterate in the order the bare integers did (seeds replay unchanged).
// Method: round trips, the parse errors, and sorted copies compared with sorted values.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <map>
#include <type_traits>
#include <vector>

#include "moonpool/network.h"

namespace moonpool {
namespace {

static_assert(std::is_trivially_copyable_v<IpAddress>);
static_assert(std::is_trivially_copyable_v<NetAddress>);
static_assert(!std::is_convertible_v<std::uint32_t, IpAddress>, "no implicit IP from a number");
static_assert(!std::is_convertible_v<IpAddress, std::uint32_t>, "no implicit number from an IP");

TEST(IpAddressTest, OctetsValueAndText) {
  constexpr IpAddress ip = IpAddress::fromOctets(10, 0, 1, 2);
  EXPECT_EQ(ip.value(), 0x0a000102u);
  EXPECT_EQ(ip, IpAddress(0x0a000102));
  EXPECT_EQ(ip.toString(), "10.0.1.2");
  EXPECT_EQ(IpAddress::fromOctets(255, 255, 255, 255).toString(), "255.255.255.255");
  EXPECT_EQ(kLoopbackIp.toString(), "127.0.0.1");
  EXPECT_TRUE(IpAddress().isUnspecified());
  EXPECT_FALSE(ip.isUnspecified());
  EXPECT_EQ(IpAddress().toString(), "0.0.0.0");
}

TEST(IpAddressTest, ParsesDottedQuadsAndRejectsTheRest) {
  IoResult<IpAddress> ok = IpAddress::parse("192.0.2.1");
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(ok.value(), IpAddress::fromOctets(192, 0, 2, 1));
  for (const char* bad : {"", "10.0.1", "10.0.1.256", "10.0.1.2:80", "a.b.c.d", "10..1.2",
                          "10.0.1.2.", "-1.0.0.0"}) {
    IoResult<IpAddress> parsed = IpAddress::parse(bad);
    ASSERT_FALSE(parsed.ok()) << bad;
    EXPECT_EQ(parsed.error().kind, IoErrorKind::kInvalidArgument) << bad;
  }
}

TEST(IpAddressTest, OrderedAsTheirValues) {
  const std::vector<std::uint32_t> values = {0x0a000103, 0x7f000001, 0x0a000101, 0x0a0000fe,
                                             0xc0000201, 0x0a000201};
  std::vector<IpAddress> ips;
  for (std::uint32_t value : values) ips.push_back(IpAddress(value));
  std::vector<std::uint32_t> sortedValues = values;
  std::sort(sortedValues.begin(), sortedValues.end());
  std::sort(ips.begin(), ips.end());
  ASSERT_EQ(ips.size(), sortedValues.size());
  for (std::size_t i = 0; i < ips.size(); ++i) EXPECT_EQ(ips[i].value(), sortedValues[i]);

  // NetAddress: by IP first, then by port.
  std::map<NetAddress, int> byAddress;
  byAddress[NetAddress{IpAddress(0x0a000102), 1}] = 2;
  byAddress[NetAddress{IpAddress(0x0a000101), 9}] = 1;
  byAddress[NetAddress{IpAddress(0x0a000102), 7}] = 3;
  int expected = 1;
  for (const auto& [address, order] : byAddress) EXPECT_EQ(order, expected++);
}

}  // namespace
}  // namespace moonpool
